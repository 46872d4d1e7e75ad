from django.apps import AppConfig


class ProspectsConfig(AppConfig):
    name = "prospects"
    verbose_name = "Prospects"
