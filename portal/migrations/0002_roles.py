"""Create the Marketer and Sync admin groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MARKETER_PERMISSIONS = [
    ("prospects", "view_prospect"),
    ("prospects", "add_prospect"),
    ("prospects", "change_prospect"),
    ("prospects", "view_campaign"),
    ("portal", "use_portal"),
]
SYNC_ADMIN_PERMISSIONS = [
    *MARKETER_PERMISSIONS,
    ("prospects", "delete_prospect"),
    ("prospects", "add_campaign"),
    ("prospects", "change_campaign"),
    ("portal", "administer_sync"),
]
ROLES = {"Marketer": MARKETER_PERMISSIONS, "Sync admin": SYNC_ADMIN_PERMISSIONS}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make them exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codes:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("prospects", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
