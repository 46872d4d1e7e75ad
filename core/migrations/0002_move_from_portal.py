"""Hand the moved models' content types from ``portal`` to ``core``.

Re-pointing the content type rows keeps every row that refers to them: the role groups' and users'
permissions (``portal.use_portal`` becomes ``core.use_portal``), admin log entries. On a fresh
database the same happens to the permissions ``portal``'s migration 0002 just created.
"""

from django.db import migrations

MOVED = ["portalpermissions", "heartbeat", "task"]


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        old = ContentType.objects.filter(app_label="portal", model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label="core", model=model).first()
        if new is not None:
            # Made by an earlier post-migrate run: keep the grants by moving them onto it.
            _merge_permissions(apps, old, new)
            old.delete()
        else:
            old.app_label = "core"
            old.save(update_fields=["app_label"])


def _merge_permissions(apps, old, new) -> None:
    Permission = apps.get_model("auth", "Permission")
    for permission in Permission.objects.filter(content_type=old):
        target, _ = Permission.objects.get_or_create(
            content_type=new, codename=permission.codename, defaults={"name": permission.name}
        )
        for group in permission.group_set.all():
            group.permissions.add(target)
        for user in permission.user_set.all():
            user.user_permissions.add(target)


def move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="core", model__in=MOVED).update(app_label="portal")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("portal", "0004_move_models_to_core"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(move_content_types, move_back)]
