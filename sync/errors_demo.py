"""Demo Sync Errors for ``make run``: prospects refused in each of the guide's four categories.

The values are the ones the demo org "Acme" really refuses, and the messages are Salesforce's
own, so a newcomer opens a populated, realistic table — the guide's 143-character comment first
— and a resync against the sandbox org fails (or clears, once fixed) for real.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from prospects.models import Prospect
from sync.errors import record_sync_error
from sync.models import Connector, Direction, SyncError

GUIDE_COMMENT = (
    "Loved the webinar on lead scoring. Please have someone call me next week about the "
    "enterprise plan, pricing for 40 seats, SSO and the Salesforce connector setup."
)[:143]


@dataclass(frozen=True)
class DemoError:
    email: str
    first_name: str
    last_name: str
    company: str
    values: dict
    code: str
    message: str
    fields: tuple[str, ...]
    value_sent: str
    constraint: str
    sobject: str = "Lead"
    operation: str = "create"
    days_ago: int = 0


DEMO_ERRORS = [
    DemoError(
        "jordan.reyes@northwind.example", "Jordan", "Reyes", "Northwind Traders",
        {"notes": GUIDE_COMMENT}, "STRING_TOO_LONG",
        f"Customer Comment: data value too large: {GUIDE_COMMENT} (max length=100)",
        ("Customer_Comment__c",), GUIDE_COMMENT,
        "Customer_Comment__c allows 100 characters; this value has 143",
    ),
    DemoError(
        "lena.vogel@contoso.example", "Lena", "Vogel", "Contoso",
        {"country": "United States", "state": "Bavaria"}, "FIELD_INTEGRITY_EXCEPTION",
        "There's a problem with this state, even though it may appear correct. Please select a "
        "state from the list of valid states.: State/Province",
        ("State",), "Bavaria", "State accepts only the states of United States (e.g. CA, NY).",
        days_ago=1,
    ),
    DemoError(
        "sam.okafor@fabrikam.example", "Sam", "Okafor", "Fabrikam",
        {"custom_fields": {"product_interest": "Gizmos"}},
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "Product Interest: bad value for restricted picklist field: Gizmos",
        ("Product_Interest__c",), "Gizmos",
        "Product_Interest__c accepts only: Widgets, Gadgets, Services; 'Gizmos' is not one of them",
        days_ago=2,
    ),
    DemoError(
        "priya.nair@tailspin.example", "Priya", "Nair", "Tailspin Toys", {},
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        "insufficient access rights on cross-reference id: 00G000000000002AAA",
        ("OwnerId",), "00G000000000002AAA",
        "OwnerId accepts only the id of a User or a queue the connector user can see "
        "(the connector user is not a member of the “Enterprise Leads” queue).",
        days_ago=3,
    ),
    DemoError(
        "tom.becker@adatum.example", "Tom", "Becker", "Adatum", {"comments": "Renewal in Q3"},
        "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id",
        (), "", "", sobject="Contact", operation="update", days_ago=5,
    ),
    DemoError(
        "maya.chen@litware.example", "Maya", "Chen", "Litware", {"phone": "call me maybe"},
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "Phone numbers may only contain digits, spaces and + ( ) - .",
        ("Phone",), "call me maybe",
        "Validation rule Phone_Format: Phone may only contain digits, spaces and + ( ) - .",
    ),
    DemoError(
        "alex.martin@wingtip.example", "Alex", "Martin", "Wingtip", {},
        "DUPLICATES_DETECTED", "Use one of these records?", (), "",
        "Duplicate rule Standard_Lead_Duplicate_Rule blocks a second lead with this email.",
        days_ago=1,
    ),
    DemoError(
        "noor.haddad@proseware.example", "Noor", "Haddad", "Proseware",
        {"territory": "00Q5g00000ABCDEFGH"}, "FIELD_INTEGRITY_EXCEPTION",
        "Reports To ID: id value of incorrect type: 00Q5g00000ABCDEFGH",
        ("ReportsToId",), "00Q5g00000ABCDEFGH",
        "ReportsToId accepts only the id of a Contact the connector user can see.",
        sobject="Contact", days_ago=4,
    ),
]  # fmt: skip


@transaction.atomic
def load_demo_errors() -> int:
    """Create the demo prospects and their open sync errors; idempotent. Returns rows added."""
    if SyncError.objects.filter(prospect_email__in=[d.email for d in DEMO_ERRORS]).exists():
        return 0
    connector = Connector.objects.first()
    now = timezone.now()
    for demo in DEMO_ERRORS:
        prospect = Prospect.objects.filter(email=demo.email).first() or Prospect.objects.create(
            email=demo.email,
            first_name=demo.first_name,
            last_name=demo.last_name,
            company=demo.company,
            **demo.values,
        )
        error = record_sync_error(
            connector=connector,
            prospect=prospect,
            direction=Direction.OUTBOUND,
            operation=demo.operation,
            sobject=demo.sobject,
            record_id="",
            error_code=demo.code,
            message=demo.message,
            fields=list(demo.fields),
            value_sent=demo.value_sent,
            constraint=demo.constraint,
        )
        seen = now - dt.timedelta(days=demo.days_ago, minutes=7 * len(demo.email))
        SyncError.objects.filter(pk=error.pk).update(first_seen_at=seen, last_seen_at=seen)
    return len(DEMO_ERRORS)
