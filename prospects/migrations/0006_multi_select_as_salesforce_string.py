"""Multi-select custom values are stored one way: Salesforce's "a;b" string.

The edit form used to store a list (["a", "b"]) where the Sync Errors fix and the pull stored
"a;b"; lists become strings here (an empty list, a blank, is removed). Going back splits the
strings of multi-select fields into lists again.
"""

from django.db import migrations

SEPARATOR = ";"
BATCH = 1000


def _rewrite(apps, convert) -> None:
    Prospect = apps.get_model("prospects", "Prospect")
    multi = set(
        apps.get_model("prospects", "CustomField")
        .objects.filter(type="multi_select")
        .values_list("api_name", flat=True)
    )
    changed = []
    for prospect in (
        Prospect.objects.exclude(custom_fields={})
        .only("pk", "custom_fields")
        .iterator(chunk_size=BATCH)
    ):
        values = convert(prospect.custom_fields or {}, multi)
        if values != prospect.custom_fields:
            prospect.custom_fields = values
            changed.append(prospect)
        if len(changed) >= BATCH:
            Prospect.objects.bulk_update(changed, ["custom_fields"])
            changed.clear()
    Prospect.objects.bulk_update(changed, ["custom_fields"], batch_size=BATCH)


def _to_strings(values: dict, multi: set[str]) -> dict:
    out = {}
    for key, value in values.items():
        if isinstance(value, list):
            value = SEPARATOR.join(str(v).strip() for v in value if str(v).strip())
            if not value:
                continue
        out[key] = value
    return out


def _to_lists(values: dict, multi: set[str]) -> dict:
    return {
        key: [v for v in value.split(SEPARATOR) if v]
        if key in multi and isinstance(value, str)
        else value
        for key, value in values.items()
    }


def forwards(apps, schema_editor) -> None:
    _rewrite(apps, _to_strings)


def backwards(apps, schema_editor) -> None:
    _rewrite(apps, _to_lists)


class Migration(migrations.Migration):
    dependencies = [
        ("prospects", "0005_website_web_address"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
