"""For random prospects (with campaign memberships, accounts, opportunities, activities, list
memberships and custom fields) and random criteria, the SQL evaluation (``compile_q``) picks
exactly the prospects the plain Python evaluation (``evaluate``) does."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from automation.criteria import Related, evaluate, matching
from automation.models import ListMembership, ProspectList
from crm.models import (
    Account,
    CampaignMembership,
    Opportunity,
    OpportunityContactRole,
    SalesforceCampaign,
)
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Activity, ActivityType, CrmQueue, CustomField

NOW = timezone.make_aware(dt.datetime(2026, 11, 30, 12, 0, 0))
WORDS = ["Germany", "germany", "GERMANY", "France", "", "Ger", "many", "Über", "über", "a b", "x"]
TEXT = st.sampled_from(WORDS)
DAYS = st.integers(-40, 40)
CUSTOM_TEXTS = [
    "",
    "12",
    " 7.5 ",
    "-3",
    "abc",
    "2026-11-29",
    "2026-13-40",
    "2026-11-01T10:00",
    "a;b",
    "b",
    "true",
]
TYPES = [ActivityType.FORM, ActivityType.IMPORT, ActivityType.LANDING_PAGE_VIEW]
STATUSES = ["Sent", "Responded"]

PROSPECT = st.fixed_dictionaries(
    {
        "country": TEXT,
        "company": TEXT,
        "score": st.integers(-5, 120),
        "employees": st.one_of(st.none(), st.integers(0, 20)),
        "annual_revenue": st.one_of(st.none(), st.decimals(0, 1000, places=2)),
        "grade": st.sampled_from(["", "A+", "A", "B", "C-", "F"]),
        "do_not_sync": st.booleans(),
        "last_activity_days": st.one_of(st.none(), DAYS),
        "crm": st.sampled_from(["", "lead", "contact"]),
        "user": st.sampled_from([None, 0, 1]),
        "queue": st.sampled_from([None, 0]),
        "archived": st.booleans(),
        "custom": st.fixed_dictionaries(
            {},
            optional={
                "ctext": st.sampled_from(WORDS[:6]),
                "cnum": st.sampled_from(CUSTOM_TEXTS),
                "cdate": st.sampled_from(CUSTOM_TEXTS),
                "cbox": st.booleans(),
                "cmulti": st.sampled_from(["a", "a;b", "b;c", "a b", ""]),
            },
        ),
        "memberships": st.lists(
            st.tuples(st.sampled_from([0, 1]), st.sampled_from(STATUSES)),
            max_size=2,
            unique_by=lambda m: m[0],
        ),
        "account": st.sampled_from([None, 0, 1, "gone"]),
        "opportunities": st.lists(st.sampled_from([0, 1, 2]), max_size=2, unique=True),
        "activities": st.lists(st.tuples(st.sampled_from(TYPES), st.integers(0, 40)), max_size=3),
        "on_list": st.booleans(),
    }
)


def condition():
    number = st.integers(-5, 120)
    return st.one_of(
        st.builds(
            lambda f, op, v: {"field": f, "op": op, "value": v},
            st.sampled_from(
                ["country", "company", "custom:ctext", "account:industry", "opportunity:stage"]
            ),
            st.sampled_from(["eq", "ne", "contains", "not_contains", "starts_with", "ends_with"]),
            st.sampled_from([w for w in WORDS if w]),
        ),
        st.builds(
            lambda f, op: {"field": f, "op": op},
            st.sampled_from(
                [
                    "country",
                    "custom:ctext",
                    "account:industry",
                    "employees",
                    "custom:cnum",
                    "custom:cdate",
                    "last_activity_at",
                    "grade",
                    "custom:cmulti",
                    "assigned_user",
                    "assigned_queue",
                ]
            ),
            st.sampled_from(["is_empty", "is_not_empty"]),
        ),
        st.builds(
            lambda f, v: {"field": f, "op": "in", "value": v},
            st.sampled_from(["country", "custom:ctext"]),
            st.lists(st.sampled_from([w for w in WORDS if w]), min_size=1, max_size=3),
        ),
        st.builds(
            lambda f, op, v: {"field": f, "op": op, "value": v},
            st.sampled_from(
                [
                    "score",
                    "employees",
                    "annual_revenue",
                    "custom:cnum",
                    "account:employees",
                    "opportunity:amount",
                ]
            ),
            st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
            st.one_of(number, st.sampled_from(["7.5", "12", "-3", "50.5"])),
        ),
        st.builds(
            lambda f, a, b: {"field": f, "op": "between", "value": [min(a, b), max(a, b)]},
            st.sampled_from(["score", "custom:cnum", "employees"]),
            number,
            number,
        ),
        st.builds(
            lambda f, op, v: {"field": f, "op": op, "value": v},
            st.sampled_from(["last_activity_at", "custom:cdate", "opportunity:close_date"]),
            st.sampled_from(["within_days", "not_within_days"]),
            st.integers(0, 30),
        ),
        st.builds(
            lambda f, op, d: {
                "field": f,
                "op": op,
                "value": (NOW.date() + dt.timedelta(days=d)).isoformat(),
            },
            st.sampled_from(
                ["last_activity_at", "custom:cdate", "opportunity:close_date", "created_at"]
            ),
            st.sampled_from(["on_or_after", "before"]),
            DAYS,
        ),
        st.builds(
            lambda f, op: {"field": f, "op": op},
            st.sampled_from(["do_not_sync", "custom:cbox", "opportunity:is_won"]),
            st.sampled_from(["is_true", "is_false"]),
        ),
        st.builds(
            lambda op, v: {"field": "grade", "op": op, "value": v},
            st.sampled_from(["eq", "ne", "gte", "lte"]),
            st.sampled_from(["A", "B", "C-", "F"]),
        ),
        st.builds(
            lambda op, v: {"field": "crm_status", "op": op, "value": v},
            st.sampled_from(["eq", "ne"]),
            st.sampled_from(["not_synced", "lead", "contact"]),
        ),
        st.builds(
            lambda op, v: {"field": "custom:cmulti", "op": op, "value": v},
            st.sampled_from(["includes", "excludes"]),
            st.sampled_from(["a", "b", "a b"]),
        ),
        st.builds(
            lambda f, op, i: {"field": f, "op": op, "value": i},
            st.sampled_from(["assigned_user", "assigned_queue"]),
            st.sampled_from(["eq", "ne"]),
            st.just(0),
        ),
        st.builds(
            lambda op, c, s: {
                "field": "sf_campaign",
                "op": op,
                "value": c,
                **({"status": s} if s else {}),
            },
            st.sampled_from(["member", "not_member"]),
            st.sampled_from([0, 1]),
            st.sampled_from(["", *STATUSES]),
        ),
        st.builds(
            lambda op: {"field": "list", "op": op, "value": "LIST"},
            st.sampled_from(["member", "not_member"]),
        ),
        st.builds(
            lambda op, t, d: {
                "field": "activity",
                "op": op,
                "value": t,
                **({"days": d} if d is not None else {}),
            },
            st.sampled_from(["has", "has_not"]),
            st.sampled_from(["any", *TYPES]),
            st.one_of(st.none(), st.integers(0, 30)),
        ),
    )


CRITERIA = st.recursive(
    st.builds(
        lambda m, cs: {"match": m, "conditions": cs},
        st.sampled_from(["all", "any"]),
        st.lists(condition(), min_size=1, max_size=3),
    ),
    lambda inner: st.builds(
        lambda m, cs: {"match": m, "conditions": cs},
        st.sampled_from(["all", "any"]),
        st.lists(st.one_of(condition(), inner), min_size=1, max_size=3),
    ),
    max_leaves=6,
)


class TestSqlEqualsPython(HypothesisTestCase):
    def world(self):
        for api, kind in [
            ("ctext", "text"),
            ("cnum", "number"),
            ("cdate", "date"),
            ("cbox", "checkbox"),
            ("cmulti", "multi_select"),
        ]:
            CustomField.objects.create(label=api, api_name=api, type=kind)
        users = [UserFactory(username=f"u{i}") for i in range(2)]
        queues = [CrmQueue.objects.create(sf_id="00G000000000001AAA", name="Queue")]
        campaigns = [
            SalesforceCampaign.objects.create(sf_id=f"70100000000000{i}AAA", name=f"C{i}")
            for i in range(2)
        ]
        accounts = [
            Account.objects.create(sf_id="001000000000001AAA", industry="Germany", employees=10),
            Account.objects.create(sf_id="001000000000002AAA", industry="über", employees=None),
            Account.objects.create(sf_id="001000000000003AAA", industry="x", deleted_at=NOW),
        ]
        opportunities = [
            Opportunity.objects.create(
                sf_id="006000000000001AAA",
                stage="Germany",
                amount=Decimal("12"),
                close_date=NOW.date(),
                is_won=True,
            ),
            Opportunity.objects.create(
                sf_id="006000000000002AAA", stage="x", amount=None, close_date=None
            ),
            Opportunity.objects.create(
                sf_id="006000000000003AAA",
                stage="Ger",
                amount=Decimal("50.5"),
                close_date=NOW.date() - dt.timedelta(days=10),
                deleted_at=NOW,
            ),
        ]
        the_list = ProspectList.objects.create(name="L")
        return users, queues, campaigns, accounts, opportunities, the_list

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        people=st.lists(PROSPECT, min_size=1, max_size=6),
        criteria=st.lists(CRITERIA, min_size=1, max_size=3),
    )
    def test_sql_and_python_agree(self, people, criteria):
        users, queues, campaigns, accounts, opportunities, the_list = self.world()
        ids = []
        for n, person in enumerate(people):
            account = person["account"]
            prospect = ProspectFactory(
                country=person["country"],
                company=person["company"],
                score=person["score"],
                employees=person["employees"],
                annual_revenue=person["annual_revenue"],
                grade=person["grade"],
                do_not_sync=person["do_not_sync"],
                last_activity_at=None
                if person["last_activity_days"] is None
                else NOW - dt.timedelta(days=person["last_activity_days"], hours=3),
                crm_lead_id=f"00Q00000000000{n}AAA" if person["crm"] else "",
                crm_contact_id=f"00300000000000{n}AAA" if person["crm"] == "contact" else "",
                crm_account_id={
                    None: "",
                    0: accounts[0].sf_id,
                    1: accounts[1].sf_id,
                    "gone": accounts[2].sf_id,
                }[account],
                assigned_user=None if person["user"] is None else users[person["user"]],
                assigned_queue=None if person["queue"] is None else queues[0],
                archived_at=NOW if person["archived"] else None,
                custom_fields=person["custom"],
            )
            ids.append(prospect.pk)
            for index, status in person["memberships"]:
                CampaignMembership.objects.create(
                    prospect=prospect, campaign=campaigns[index], status=status
                )
            for index in person["opportunities"]:
                OpportunityContactRole.objects.create(
                    sf_id=f"00K0000000{n}{index}000AAA"[:18],
                    opportunity=opportunities[index],
                    contact_sf_id="003000000000009AAA",
                    prospect=prospect,
                )
            Activity.objects.bulk_create(
                Activity(
                    prospect=prospect,
                    type=kind,
                    occurred_at=NOW - dt.timedelta(days=days, minutes=5),
                )
                for kind, days in person["activities"]
            )
            if person["on_list"]:
                ListMembership.objects.create(list=the_list, prospect=prospect, added_at=NOW)
        related = Related.load(ids)
        for document in criteria:
            document = _with_ids(
                document, campaigns=campaigns, users=users, queues=queues, the_list=the_list
            )
            in_sql = set(matching(document, now=NOW).values_list("pk", flat=True))
            in_python = {
                p.pk
                for p in type(prospect).objects.filter(pk__in=ids)
                if evaluate(document, p, related, now=NOW)
            }
            assert in_sql == in_python, document


def _with_ids(group, **objects):
    """The strategies name objects by index; the document names them by primary key."""
    out = {"match": group["match"], "conditions": []}
    for item in group["conditions"]:
        if "conditions" in item:
            out["conditions"].append(_with_ids(item, **objects))
            continue
        item = dict(item)
        if item["field"] == "sf_campaign":
            item["value"] = objects["campaigns"][item["value"]].pk
        elif item["field"] == "assigned_user" and "value" in item:
            item["value"] = objects["users"][item["value"]].pk
        elif item["field"] == "assigned_queue" and "value" in item:
            item["value"] = objects["queues"][item["value"]].pk
        elif item["field"] == "list":
            item["value"] = objects["the_list"].pk
        out["conditions"].append(item)
    return out
