"""``sync.bulk_sql``: the engine's fast rows land exactly as Django's own would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from prospects.factories import CampaignFactory, ProspectFactory, UserFactory
from prospects.models import Activity, ActivityType, Direction, Prospect, SyncHistory
from sync import bulk_sql

pytestmark = pytest.mark.django_db


def test_new_takes_defaults_like_init():
    """Every field not given has the default ``Model.__init__`` would give it; callable
    defaults are called once per row (no shared dict between rows)."""
    before = timezone.now()
    first, second = (
        bulk_sql.new(Activity, prospect_id=1, type=ActivityType.CRM_CREATED) for _ in range(2)
    )
    made = Activity(prospect_id=1, type=ActivityType.CRM_CREATED)
    for name in ("title", "points", "actor_id", "details", "id"):
        assert getattr(first, name) == getattr(made, name), name
    assert first.occurred_at >= before
    assert first.details is not second.details
    assert first._state.adding and first._state.db is None


def test_new_refuses_an_unknown_field():
    with pytest.raises(TypeError, match="prospect"):
        bulk_sql.new(SyncHistory, prospect=None)  # by attribute name: prospect_id


def test_rows_made_by_new_insert_as_django_would():
    """History rows built by ``new`` and inserted (COPY, JSON by orjson on PostgreSQL) read
    back as the same values a Django-built row holds — text keys, unicode, nested values,
    and an integer beyond 64 bits (orjson refuses it: Django's encoder takes over)."""
    prospect = ProspectFactory()
    now = timezone.now().replace(microsecond=0)
    changes = [
        {"field": "city", "new": "Zürich ✓", "old": None, "direction": "inbound"},
        {"field": "employees", "new": 12, "nested": {"a": [1, 2.5, True]}},
    ]
    fast = bulk_sql.new(
        SyncHistory,
        prospect_id=prospect.pk,
        at=now,
        direction=Direction.OUTBOUND,
        operation="update",
        changes=changes,
        result=SyncHistory.Result.OK,
    )
    huge = bulk_sql.new(
        SyncHistory,
        prospect_id=prospect.pk,
        at=now - dt.timedelta(seconds=1),
        direction=Direction.OUTBOUND,
        operation="update",
        changes=[{"field": "x", "new": 2**70}],
        result=SyncHistory.Result.OK,
    )
    bulk_sql.insert(SyncHistory, [fast, huge])
    rows = list(SyncHistory.objects.filter(prospect=prospect).order_by("-at"))
    assert [r.changes for r in rows] == [changes, [{"field": "x", "new": 2**70}]]
    assert rows[0].message == "" and rows[0].actor_id is None and rows[0].reason == ""


def test_update_writes_json_columns():
    prospect = ProspectFactory()
    prospect.custom_fields = {
        "Region__c": "EMEA ✓",
        "Employees__c": 7,
        "Partner__c": False,
    }
    bulk_sql.update(Prospect, [prospect], ["custom_fields"])
    assert Prospect.objects.get(pk=prospect.pk).custom_fields == prospect.custom_fields
    prospect.custom_fields = {}
    bulk_sql.update(Prospect, [prospect], ["custom_fields"])
    assert Prospect.objects.get(pk=prospect.pk).custom_fields == {}


def test_load_prefetches_foreign_keys_in_a_query_each(django_assert_num_queries):
    """A batch's users and campaigns read once each, shared, and none read again per prospect;
    a null key is known to be empty without a query."""
    owner, campaign = UserFactory(), CampaignFactory()
    prospects = [
        ProspectFactory(assigned_user=owner, campaign=campaign),
        ProspectFactory(assigned_user=owner),
        ProspectFactory(),
    ]
    query = Prospect.objects.filter(bulk_sql.any_of("pk", [p.pk for p in prospects]))
    with django_assert_num_queries(3):
        loaded = bulk_sql.load(query.order_by("pk").prefetch_related("assigned_user", "campaign"))
    with django_assert_num_queries(0):
        assert [p.assigned_user for p in loaded] == [owner, owner, None]
        assert [p.campaign for p in loaded] == [campaign, None, None]
        assert loaded[0].assigned_user is loaded[1].assigned_user


def test_load_gives_the_instances_django_would():
    """Every field, JSON columns included (orjson on PostgreSQL; an integer beyond 64 bits goes
    Django's way), the prefetched relations, and a saved instance's state."""
    first = ProspectFactory(custom_fields={"Region__c": "EMEA ✓", "Count__c": 2**70})
    second = ProspectFactory(field_changed_at={"city": "2026-11-30T10:00:00+00:00"})
    query = Prospect.objects.filter(bulk_sql.any_of("pk", [first.pk, second.pk]))
    expected = list(query.prefetch_related("campaign", "assigned_user"))
    loaded = bulk_sql.load(query.prefetch_related("campaign", "assigned_user"))
    assert [p.pk for p in loaded] == [p.pk for p in expected]
    for fast, django in zip(loaded, expected, strict=True):
        for field in Prospect._meta.concrete_fields:
            assert getattr(fast, field.attname) == getattr(django, field.attname), field.name
        assert fast.campaign == django.campaign and fast.assigned_user == django.assigned_user
        assert not fast._state.adding and fast._state.db == "default"
    assert loaded[[p.pk for p in loaded].index(first.pk)].custom_fields["Count__c"] == 2**70
    loaded[0].job_title = "Changed"
    loaded[0].save(update_fields=["job_title"])
    assert Prospect.objects.get(pk=loaded[0].pk).job_title == "Changed"


def test_values_reads_json_columns_as_django_does():
    prospect = ProspectFactory(custom_fields={"Region__c": "EMEA", "Score__c": 1.5, "X__c": None})
    query = Prospect.objects.filter(pk=prospect.pk)
    assert bulk_sql.values(query, ["pk", "custom_fields", "email"]) == list(
        query.values_list("pk", "custom_fields", "email")
    )


def test_values_reads_timestamps_as_django_does():
    """Same datetimes, same time zone object (psycopg's C loader on PostgreSQL)."""
    prospect = ProspectFactory(last_synced_at=timezone.now(), archived_at=None)
    query = Prospect.objects.filter(pk=prospect.pk)
    names = ["created_at", "last_synced_at", "archived_at"]
    fast, django = bulk_sql.values(query, names), list(query.values_list(*names))
    assert fast == django
    assert [v and v.tzinfo for v in fast[0]] == [v and v.tzinfo for v in django[0]]


def test_update_touches_only_its_rows():
    """The staged rows are found by primary key (the ids go along as an array), and no other
    row changes."""
    prospects = ProspectFactory.create_batch(3, job_title="Before")
    for prospect in prospects[:2]:
        prospect.job_title = "After"
    bulk_sql.update(Prospect, prospects[:2], ["job_title"])
    titles = dict(Prospect.objects.values_list("pk", "job_title"))
    assert [titles[p.pk] for p in prospects] == ["After", "After", "Before"]


@pytest.mark.parametrize("kind", ["ids", "text", "none"])
def test_any_of_finds_what_in_finds(kind):
    """Ids go to PostgreSQL as one array literal, other values as an array parameter."""
    made = [ProspectFactory(crm_lead_id=f"00Q{i:015d}") for i in range(3)]
    field, wanted = {
        "ids": ("pk", [made[0].pk, made[2].pk, -1]),
        "text": ("crm_lead_id", [made[1].crm_lead_id, "00Q' OR 1=1 --"]),
        "none": ("pk", []),
    }[kind]
    found = Prospect.objects.filter(bulk_sql.any_of(field, wanted)).order_by("pk")
    assert list(found) == list(Prospect.objects.filter(**{f"{field}__in": wanted}).order_by("pk"))
