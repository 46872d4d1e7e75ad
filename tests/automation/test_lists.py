"""Static and dynamic lists: set-based membership, recompute, deleted references."""

import pytest

from automation.criteria import CriteriaError, compile_q, describe, validate
from automation.lists import ListError, add_members, recompute, recompute_all, remove_members
from automation.models import ListMembership, ProspectList
from prospects.factories import ProspectFactory
from prospects.models import CustomField, Prospect

pytestmark = pytest.mark.django_db

GERMANS_50 = {
    "match": "all",
    "conditions": [
        {"field": "score", "op": "gte", "value": 50},
        {"field": "country", "op": "eq", "value": "Germany"},
    ],
}


def members(prospect_list: ProspectList) -> set[int]:
    return set(prospect_list.memberships.values_list("prospect_id", flat=True))


def test_static_add_and_remove_are_set_based_and_keep_the_count():
    prospects = ProspectFactory.create_batch(5)
    archived = ProspectFactory(archived_at="2026-01-01T00:00Z")
    static = ProspectList.objects.create(name="Hand picked")
    added = add_members(static, [p.pk for p in prospects[:3]] + [archived.pk, 10**9])
    assert added == sorted(p.pk for p in prospects[:3])  # archived and missing skipped
    assert add_members(
        static, Prospect.objects.filter(pk__in=[prospects[0].pk, prospects[3].pk])
    ) == [prospects[3].pk]
    static.refresh_from_db()
    assert static.member_count == 4 == static.memberships.count()
    assert remove_members(static, [prospects[0].pk, prospects[4].pk]) == [prospects[0].pk]
    static.refresh_from_db()
    assert static.member_count == 3 == static.memberships.count()


def test_a_dynamic_list_refuses_members_by_hand():
    dynamic = ProspectList.objects.create(name="Auto", kind="dynamic", criteria=GERMANS_50)
    with pytest.raises(ListError, match="dynamic"):
        add_members(dynamic, [ProspectFactory().pk])


def test_recompute_adds_the_new_matches_and_drops_the_old():
    keep = ProspectFactory(score=60, country="Germany")
    leave = ProspectFactory(score=70, country="germany")
    ProspectFactory(score=40, country="Germany")
    ProspectFactory(score=90, country="France")
    dynamic = ProspectList.objects.create(name="Hot Germans", kind="dynamic", criteria=GERMANS_50)
    result = recompute(dynamic)
    assert (result.added, result.removed, result.member_count) == (2, 0, 2)
    assert members(dynamic) == {keep.pk, leave.pk}
    first_added = dynamic.memberships.get(prospect=keep).added_at
    Prospect.objects.filter(pk=leave.pk).update(score=10)
    joiner = ProspectFactory(score=50, country="GERMANY")
    result = recompute(dynamic)
    assert (result.added, result.removed) == (1, 1)
    dynamic.refresh_from_db()
    assert members(dynamic) == {keep.pk, joiner.pk} and dynamic.member_count == 2
    assert dynamic.memberships.get(prospect=keep).added_at == first_added  # kept, not re-added
    assert dynamic.recomputed_at is not None and dynamic.problem == ""


def test_a_deleted_custom_field_keeps_the_members_and_says_why():
    field = CustomField.objects.create(label="Tier", api_name="tier")
    gold = ProspectFactory(custom_fields={"tier": "Gold"})
    criteria = {
        "match": "all",
        "conditions": [{"field": "custom:tier", "op": "eq", "value": "gold"}],
    }
    assert validate(criteria) == []
    dynamic = ProspectList.objects.create(name="Gold", kind="dynamic", criteria=criteria)
    recompute(dynamic)
    assert members(dynamic) == {gold.pk}
    field.delete()
    assert validate(criteria) == ['The custom field "tier" no longer exists.']
    result = recompute(dynamic)
    dynamic.refresh_from_db()
    assert (
        result.problem
        == dynamic.problem
        == 'Not recomputed: The custom field "tier" no longer exists.'
    )
    assert members(dynamic) == {gold.pk} and dynamic.member_count == 1


def test_a_list_read_by_another_is_recomputed_first():
    hot = ProspectFactory(score=80, country="Germany")
    ProspectFactory(score=80, country="France")
    # Created first, reads the list created second: recompute_all orders them.
    reader = ProspectList.objects.create(name="Reader", kind="dynamic")
    source = ProspectList.objects.create(name="Source", kind="dynamic", criteria=GERMANS_50)
    reader.criteria = {
        "match": "all",
        "conditions": [{"field": "list", "op": "member", "value": source.pk}],
    }
    reader.save()
    recompute_all()
    assert members(reader) == {hot.pk}


def test_criteria_refuse_unknown_fields_and_deleted_objects_with_messages():
    bad = {
        "match": "all",
        "conditions": [
            {"field": "shoe_size", "op": "eq", "value": 9},
            {"field": "score", "op": "contains", "value": "x"},
            {"field": "score", "op": "gte", "value": "many"},
            {"field": "sf_campaign", "op": "member", "value": 999},
            {"field": "list", "op": "member", "value": 999},
            {"field": "grade", "op": "gte", "value": "Z"},
            {"match": "any", "conditions": []},
        ],
    }
    assert validate(bad) == [
        'Unknown field "shoe_size".',
        'Score: "contains" is not an operator for this field.',
        "Score: give a number.",
        "Salesforce campaign: the salesforce campaign #999 no longer exists.",
        "List: the list #999 no longer exists.",
        "Grade: choose among A, A+, A-, B, B+, B-, C, C+, C-, D, D+, D-, F.",
        "A group needs at least one condition.",
    ]
    with pytest.raises(CriteriaError):
        compile_q(bad)


def test_a_list_cannot_be_defined_by_itself():
    own = ProspectList.objects.create(name="Me", kind="dynamic")
    criteria = {"match": "all", "conditions": [{"field": "list", "op": "member", "value": own.pk}]}
    assert validate(criteria, own_list_id=own.pk) == [
        "List: a list cannot be defined by its own membership."
    ]


def test_recompute_is_two_statements_whatever_the_size(django_assert_max_num_queries):
    ProspectFactory.create_batch(30, score=60, country="Germany")
    dynamic = ProspectList.objects.create(name="Hot", kind="dynamic", criteria=GERMANS_50)
    with django_assert_max_num_queries(12):
        recompute(dynamic)
    assert ListMembership.objects.filter(list=dynamic).count() == 30


def test_criteria_read_as_a_marketer_wrote_them():
    criteria = {
        "match": "all",
        "conditions": [
            *GERMANS_50["conditions"],
            {"field": "score", "op": "between", "value": [10, 40]},
            {"field": "crm_status", "op": "in", "value": ["lead", "contact"]},
            {"field": "activity", "op": "has", "value": "form", "days": 7},
        ],
    }

    assert describe(criteria) == (
        "Score ≥ 50 and Country is “Germany” and Score between 10 and 40"
        " and CRM status is one of “Lead, Contact”"
        " and Activity has “Form submission” in the last 7 days"
    )


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "pending", {"pending"}),
        ("ne", "synced", {"pending", "error"}),
        ("in", ["error", "synced"], {"error", "synced"}),
    ],
)
def test_a_list_selects_by_sync_status(op, value, expected):
    for status in ("pending", "synced", "error"):
        ProspectFactory(sync_status=status)
    criteria = {"conditions": [{"field": "sync_status", "op": op, "value": value}]}
    matched = Prospect.objects.filter(compile_q(criteria)).values_list("sync_status", flat=True)
    assert set(matched) == expected
