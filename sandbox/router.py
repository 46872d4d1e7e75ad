"""Keep the sandbox org's tables in their own database alias, ``sandbox``."""

SANDBOX_APP = "sandbox"
SANDBOX_DB = "sandbox"


class SandboxRouter:
    def db_for_read(self, model, **hints):
        return SANDBOX_DB if model._meta.app_label == SANDBOX_APP else "default"

    def db_for_write(self, model, **hints):
        return SANDBOX_DB if model._meta.app_label == SANDBOX_APP else "default"

    def allow_relation(self, obj1, obj2, **hints):
        return (obj1._meta.app_label == SANDBOX_APP) == (obj2._meta.app_label == SANDBOX_APP)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == SANDBOX_APP:
            return db == SANDBOX_DB
        return db == "default"
