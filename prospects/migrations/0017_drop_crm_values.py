"""No copy of the Salesforce record on the prospect (issue 19, the cost per record).

``crm_values`` held what Salesforce had at the last sync, as JSON: some forty fields. Every pull
read it back (under the row lock), parsed it, rebuilt it and wrote it again, and every push
rewrote it; PostgreSQL parsed it on the way in and printed it on the way out. Measured side by
side on 20,000 records, it was a third of a pull's portal cost and over a quarter of an edit
push's, and its size pushed updates off their page (fewer HOT updates).

Nothing decided anything by it: a push reads the linked record afresh and sends only what
differs, and each sync's history keeps the fields it moved, old and new. What it also did,
tell a push that a pull landed while the push was in flight, ``crm_modified_at`` does (it moves
with every record a pull applies). Salesforce holds the values; the next pull needs none of them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("prospects", "0016_list_indexes"),
    ]

    operations = [
        migrations.RemoveField(model_name="prospect", name="crm_values"),
    ]
