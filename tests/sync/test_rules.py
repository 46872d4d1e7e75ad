"""The four field behaviours, both ways, with the guide's blank handling."""

import datetime as dt

import pytest

from prospects.models import Prospect
from sync.engine.rules import _cut_to_fit, decide, reconcile
from sync.models import FieldRule

B = FieldRule.Behaviour
OLD = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NEW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def rule(behaviour, blanks=False):
    return FieldRule(
        prospect_field="company",
        lead_field="Company",
        behaviour=behaviour,
        salesforce_blanks_overwrite=blanks,
    )


def run(behaviour, ours, theirs, *, ours_at=OLD, theirs_at=OLD, blanks=False):
    return decide(
        rule(behaviour, blanks),
        ours=ours,
        theirs=theirs,
        ours_changed_at=ours_at,
        theirs_changed_at=theirs_at,
    )


@pytest.mark.parametrize("behaviour", list(B))
def test_equal_values_move_nothing(behaviour):
    assert run(behaviour, "Acme", "Acme") is None


def test_dont_sync_moves_nothing():
    assert run(B.DONT_SYNC, "Acme", "Globex") is None
    assert run(B.DONT_SYNC, None, "Globex") is None


def test_leadbridge_value_wins_a_conflict():
    assert run(B.LEADBRIDGE, "Acme", "Globex") == ("salesforce", "Acme")


def test_leadbridge_blank_is_filled_from_salesforce():
    assert run(B.LEADBRIDGE, None, "Globex") == ("leadbridge", "Globex")


def test_salesforce_value_wins_a_conflict():
    assert run(B.SALESFORCE, "Acme", "Globex") == ("leadbridge", "Globex")


def test_salesforce_blank_is_filled_from_leadbridge_by_default():
    assert run(B.SALESFORCE, "Acme", None) == ("salesforce", "Acme")


def test_salesforce_blank_overwrites_when_the_rule_says_so():
    assert run(B.SALESFORCE, "Acme", None, blanks=True) == ("leadbridge", None)


def test_most_recent_value_wins_either_way():
    assert run(B.MOST_RECENT, "Acme", "Globex", ours_at=NEW, theirs_at=OLD) == (
        "salesforce",
        "Acme",
    )
    assert run(B.MOST_RECENT, "Acme", "Globex", ours_at=OLD, theirs_at=NEW) == (
        "leadbridge",
        "Globex",
    )


def test_most_recent_blank_is_filled_by_the_older_value():
    assert run(B.MOST_RECENT, None, "Globex", ours_at=NEW, theirs_at=OLD) == (
        "leadbridge",
        "Globex",
    )
    assert run(B.MOST_RECENT, "Acme", None, ours_at=OLD, theirs_at=NEW) == ("salesforce", "Acme")


@pytest.mark.parametrize(
    ("ours", "theirs", "cut"),
    [
        ("abcde", "abcdefgh", True),  # cut to the field's 5
        ("abcd", "abcd efgh", True),  # cut at a space, stored without it
        ("abcde", "abcde", False),  # equal: decide's own rule
        ("abcdX", "abcdefgh", False),  # edited here: a real change
        ("abc", "abcdefgh", False),  # shorter than the field holds: edited here
        (None, "abcdefgh", False),  # blank here: filled as usual
    ],
)
def test_a_value_cut_to_the_field_is_no_change(ours, theirs, cut):
    assert _cut_to_fit(ours, theirs, 5) is cut


@pytest.mark.parametrize(
    ("mine", "theirs", "moves"),
    [
        ("Acme", "Acme", False),
        ("", None, False),  # our blank, their null
        (" Acme ", "Acme", False),  # one normal form
        ("Acme", "Globex", True),
        ("", "Globex", True),
        ("Acme", None, True),
    ],
)
def test_reconcile_moves_only_what_differs_in_normal_form(mine, theirs, moves):
    prospect = Prospect(email="a@example.com", company=mine)
    changes = reconcile(
        prospect,
        {"Company": theirs},
        [rule(B.SALESFORCE, blanks=True)],
        sobject="Lead",
        record_modified_at=NEW,
    )
    assert [c.prospect_field for c in changes] == (["company"] if moves else [])
