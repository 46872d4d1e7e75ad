"""The demo org "Acme": metadata, security, rules and a few thousand records.

Names the connector (and its tests) can rely on:

* Connected app ``leadbridge-demo`` / ``leadbridge-demo-secret`` (client_credentials runs as the
  connector user); connector user ``connector@acme.example`` / ``connector-demo-1`` (profile
  "Leadbridge Connector", business unit A); admin ``admin@acme.example`` / ``admin-demo-1``
  (System Administrator); sales reps ``alice@``/``arthur@acme.example`` (unit A) and
  ``bella@``/``boris@acme.example`` (unit B), password ``sales-demo-1``; ``mia@acme.example``
  (profile "Marketing User"), ``pat@globex.example`` (profile "Partner Community User",
  ``UserType`` PowerPartner) and ``ivan@acme.example`` (deactivated: refused as an owner with
  INACTIVE_OWNER_OR_USER). Profiles carry ``UserLicenseId``/``UserType``; users a ``UserRoleId``
  (roles CEO > Sales Rep, Marketing Team; a partner role with ``PortalType`` Partner).
* Queues (Group, Type 'Queue'): "Inbound Leads" (the connector is a member, so it can assign to
  it) and "Enterprise Leads" (it is not: INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY).
* Lead and Contact custom fields: ``Customer_Comment__c`` text(100); ``Product_Interest__c``
  restricted picklist (Widgets, Gadgets, Services); ``Region__c`` picklist (AMER, EMEA, APAC);
  ``Interests__c`` multi-select; ``Budget__c`` currency; ``Seats__c`` number;
  ``Win_Probability__c`` percent; ``Demo_Date__c`` date; ``Last_Demo_At__c`` datetime;
  ``Newsletter_Opt_In__c`` checkbox; ``LinkedIn_Url__c`` url; ``Alt_Email__c`` email;
  ``Alt_Phone__c`` phone; ``Sales_Notes__c`` textarea(255) — the connector can read but not edit
  it; ``Credit_Limit__c`` currency — hidden from the connector by field-level security.
* Account Engagement package fields on Lead and Contact: ``pi__score__c``, ``pi__grade__c``,
  ``pi__url__c``, ``pi__campaign__c``, ``pi__created_date__c``, ``pi__last_activity__c``,
  ``pi__first_activity__c``, ``pi__first_touch_url__c``, ``pi__conversion_date__c``,
  ``pi__conversion_object_name__c``, ``pi__conversion_object_type__c``, ``pi__comments__c``,
  ``pi__utm_source__c``, ``pi__utm_medium__c``, ``pi__utm_campaign__c``,
  ``pi__pardot_hard_bounced__c``, ``pi__Needs_Score_Synced__c``, and the external id to upsert
  on, ``pi__Pardot_Prospect_Id__c`` (text 40, unique, external id).
* State/country picklists on. Validation rules: Lead ``Phone_Format`` (Phone with letters),
  Lead ``Working_Leads_Need_Source`` (Status 'Working - Contacted' with blank LeadSource),
  Contact ``Email_Or_Phone`` (both blank). Trigger rule: Lead ``LeadTrigger`` refuses Company
  'Blocked Industries' on insert and update (CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY, "LeadTrigger:
  execution of BeforeInsert\n\ncaused by: System.DmlException: …"). Duplicate rules: ``Standard_Lead_Duplicate_Rule``
  (Lead Email, block) and ``Standard_Contact_Duplicate_Rule`` (Contact Email, allow with alert —
  resend with ``Sforce-Duplicate-Rule-Header: allowSave=true``).
* Sharing: Lead, Contact, Account, Campaign, Task Public Read/Write; Opportunity Public Read
  Only (the connector edits unit A's, not unit B's: INSUFFICIENT_ACCESS_OR_READONLY);
  Subscription__c Private (unit B's are invisible to the connector). Set Lead or Contact to
  Private in the admin to hide unit B's leads/contacts. The connector may not delete Accounts.
* Person accounts on (sandbox/person.py): Account record types "Business Account" and "Person
  Account" (``IsPersonType``); Account has ``IsPersonAccount``, ``PersonContactId``, FirstName,
  LastName, Salutation, the ``Person*`` contact fields and every Contact custom field as
  ``__pc`` (``Customer_Comment__pc`` … ``pi__Pardot_Prospect_Id__pc``, external id, unique);
  Contact has ``IsPersonAccount``. Two person accounts: Priya Raman and Tomas Lindqvist.
* Data: 300 accounts, 1,200 contacts, 1,500 leads (60 converted), 300 opportunities with
  contact roles, 8 campaigns with member statuses and members, tasks and subscriptions.
"""

import random
from datetime import timedelta

from django.db import transaction

from sandbox import auth, ids, metadata
from sandbox.metadata import Spec, picklist, spec
from sandbox.models import (
    ConnectedApp,
    DuplicateRule,
    Field,
    FieldPermission,
    ObjectPermission,
    Org,
    OrgUser,
    Profile,
    QueueMember,
    Record,
    SharingModel,
    SObject,
    TriggerRule,
    ValidationRule,
)
from sandbox.records import refresh_statistics
from sandbox.values import format_datetime, now

DB = "sandbox"
ORG_NAME = "Acme"
CLIENT_ID, CLIENT_SECRET = "leadbridge-demo", "leadbridge-demo-secret"
CONNECTOR_USERNAME, CONNECTOR_PASSWORD = "connector@acme.example", "connector-demo-1"
ADMIN_USERNAME, ADMIN_PASSWORD = "admin@acme.example", "admin-demo-1"
SALES_PASSWORD = "sales-demo-1"
EXTERNAL_ID_FIELD = "pi__Pardot_Prospect_Id__c"
BLOCKED_COMPANY = "Blocked Industries"

PERSON_CUSTOM_FIELDS: list[Spec] = [
    spec("Customer_Comment__c", "string", 100, "Customer Comment"),
    metadata.pick(
        "Product_Interest__c",
        ["Widgets", "Gadgets", "Services"],
        "restricted",
        label="Product Interest",
    ),
    metadata.pick("Region__c", ["AMER", "EMEA", "APAC"], label="Region"),
    spec(
        "Interests__c",
        "multipicklist",
        4099,
        "Interests",
        picklist_values=picklist(["Analytics", "Automation", "Email", "Events", "Social"]),
    ),
    spec("Budget__c", "currency", 0, "Budget", precision=16, scale=2),
    spec("Seats__c", "double", 0, "Seats", precision=18, scale=0),
    spec("Win_Probability__c", "percent", 0, "Win Probability", precision=5, scale=2),
    spec("Demo_Date__c", "date", 0, "Demo Date"),
    spec("Last_Demo_At__c", "datetime", 0, "Last Demo At"),
    spec("Newsletter_Opt_In__c", "boolean", 0, "Newsletter Opt In", "def", default_value=False),
    spec("LinkedIn_Url__c", "url", 255, "LinkedIn URL"),
    spec("Alt_Email__c", "email", 80, "Alternate Email"),
    spec("Alt_Phone__c", "phone", 40, "Alternate Phone"),
    spec("Sales_Notes__c", "textarea", 255, "Sales Notes"),
    spec("Credit_Limit__c", "currency", 0, "Credit Limit", precision=16, scale=2),
]
PARDOT_FIELDS: list[Spec] = [
    spec("pi__score__c", "double", 0, "Score", precision=18, scale=0),
    spec("pi__grade__c", "string", 10, "Grade"),
    spec("pi__url__c", "url", 255, "Pardot URL"),
    spec("pi__campaign__c", "string", 255, "Pardot Campaign"),
    spec("pi__created_date__c", "datetime", 0, "Pardot Created Date"),
    spec("pi__last_activity__c", "datetime", 0, "Pardot Last Activity"),
    spec("pi__first_activity__c", "datetime", 0, "Pardot First Activity"),
    spec("pi__first_touch_url__c", "string", 255, "First Touch URL"),
    spec("pi__conversion_date__c", "datetime", 0, "Pardot Conversion Date"),
    spec("pi__conversion_object_name__c", "string", 255, "Pardot Conversion Object Name"),
    spec("pi__conversion_object_type__c", "string", 255, "Pardot Conversion Object Type"),
    spec("pi__comments__c", "textarea", 32000, "Pardot Comments"),
    spec("pi__utm_source__c", "string", 255, "Google Analytics Source"),
    spec("pi__utm_medium__c", "string", 255, "Google Analytics Medium"),
    spec("pi__utm_campaign__c", "string", 255, "Google Analytics Campaign"),
    spec("pi__pardot_hard_bounced__c", "boolean", 0, "Pardot Hard Bounced", "def"),
    spec("pi__Needs_Score_Synced__c", "boolean", 0, "Needs Score Synced", "def"),
    spec(EXTERNAL_ID_FIELD, "string", 40, "Pardot Prospect Id", "ext uniq"),
]

FIRST = [
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Eve",
    "Finn",
    "Gia",
    "Hal",
    "Ivy",
    "Jon",
    "Kai",
    "Lea",
    "Max",
    "Nia",
    "Oto",
    "Pia",
    "Quinn",
    "Rae",
    "Sam",
    "Tia",
]
LAST = [
    "Lovelace",
    "Okafor",
    "Nguyen",
    "Patel",
    "Schmidt",
    "Garcia",
    "Rossi",
    "Kim",
    "Silva",
    "Dubois",
    "Novak",
    "Haddad",
    "Jensen",
    "Moreau",
    "Tanaka",
    "Walsh",
    "Costa",
    "Berg",
]
COMPANIES = [
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Aperture",
    "Monarch",
]
PLACES = [
    ("United States", "California"),
    ("United States", "New York"),
    ("United States", "Texas"),
    ("Canada", "Ontario"),
    ("United Kingdom", None),
    ("Germany", None),
    ("France", None),
    ("Australia", "Victoria"),
]


def load_demo_org(*, reset: bool = False) -> Org:
    """Create the demo org once (``reset`` drops and recreates it)."""
    existing = Org.objects.using(DB).filter(name=ORG_NAME).first()
    if existing and not reset:
        return existing
    with transaction.atomic(using=DB):
        if existing:
            drop_org(existing)
        org = _build()
    refresh_statistics()
    return org


def drop_org(org: Org) -> None:
    """Delete an org and everything in it (records with a raw delete: thousands of rows)."""
    Record.objects.using(DB).filter(org=org)._raw_delete(DB)
    # Users protect their profile; remove them first so the cascade can run.
    OrgUser.objects.using(DB).filter(profile__org=org).delete()
    org.delete(using=DB)


def _build() -> Org:
    org = Org.objects.using(DB).create(id=ids.new_id("00D"), name=ORG_NAME)
    objects = metadata.install_standard_objects(org)
    for name in ("Lead", "Contact"):
        metadata.add_fields(objects[name], PERSON_CUSTOM_FIELDS + PARDOT_FIELDS)
    record_types = metadata.enable_person_accounts(
        org, objects, PERSON_CUSTOM_FIELDS + PARDOT_FIELDS
    )
    Record.objects.using(DB).bulk_create(record_types)
    profiles = _profiles(org)
    users = _users(org, objects, profiles)
    _security(objects, profiles)
    _rules(objects)
    queues = _queues(org, objects, users)
    ConnectedApp.objects.using(DB).create(
        org=org,
        name="Leadbridge demo",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        run_as=users["connector"],
    )
    _records(org, objects, users, queues, record_types)
    return org


def _profiles(org: Org) -> dict[str, Profile]:
    def make(key: str, name: str, **flags) -> Profile:
        return Profile.objects.using(DB).create(id=ids.new_id("00e"), org=org, name=name, **flags)

    return {
        "admin": make(
            "admin",
            "System Administrator",
            view_all_data=True,
            modify_all_data=True,
            edit_converted_leads=True,
        ),
        "connector": make("connector", "Leadbridge Connector"),
        "sales": make("sales", "Standard User"),
        "marketing": make("marketing", "Marketing User"),
        "partner": make("partner", "Partner Community User"),
    }


# Profile key -> its user license (Name, LicenseDefinitionKey, the UserType it gives).
LICENSES = {
    "salesforce": ("Salesforce", "SFDC", "Standard"),
    "integration": ("Salesforce Integration", "SFDC_INTEGRATION", "Standard"),
    "partner": ("Partner Community", "PID_Partner_Community", "PowerPartner"),
}
PROFILE_LICENSES = {
    "admin": "salesforce",
    "connector": "integration",
    "sales": "salesforce",
    "marketing": "salesforce",
    "partner": "partner",
}
# Role key -> (Name, DeveloperName, parent role key, PortalType).
ROLES = {
    "ceo": ("CEO", "CEO", None, "None"),
    "sales": ("Sales Rep", "SalesRep", "ceo", "None"),
    "marketing": ("Marketing Team", "MarketingTeam", "ceo", "None"),
    "partner": ("Globex Partner Executive", "GlobexPartnerExecutive", "sales", "Partner"),
}


def _system_record(org: Org, sobject: str, record_id: str, data: dict) -> Record:
    stamp = now()
    text = format_datetime(stamp)
    full = {
        "Id": record_id,
        "IsDeleted": False,
        "CreatedDate": text,
        "LastModifiedDate": text,
        "SystemModstamp": text,
        **data,
    }
    return Record(
        pk=record_id,
        org=org,
        sobject=sobject,
        data=full,
        owner_id=full.get("OwnerId", ""),
        email=str(full.get("Email", "")).lower(),
        system_modstamp=stamp,
    )


def _users(org: Org, objects: dict, profiles: dict) -> dict[str, OrgUser]:
    """The org's users, their profiles' licenses and their roles.

    Besides the admin, the connector and four sales reps: Mia, a marketer; Pat, a partner
    community user (``UserType`` PowerPartner, excluded from assignment by default); and Ivan,
    a deactivated rep (``IsActive`` false: Salesforce refuses him as an owner).
    """
    people = [
        ("admin", ADMIN_USERNAME, ADMIN_PASSWORD, "Avery", "Admin", "admin", "A", "ceo"),
        (
            "connector",
            CONNECTOR_USERNAME,
            CONNECTOR_PASSWORD,
            "Leadbridge",
            "Connector",
            "connector",
            "A",
            None,
        ),
        ("alice", "alice@acme.example", SALES_PASSWORD, "Alice", "Ames", "sales", "A", "sales"),
        (
            "arthur",
            "arthur@acme.example",
            SALES_PASSWORD,
            "Arthur",
            "Abbott",
            "sales",
            "A",
            "sales",
        ),
        ("bella", "bella@acme.example", SALES_PASSWORD, "Bella", "Brandt", "sales", "B", "sales"),
        ("boris", "boris@acme.example", SALES_PASSWORD, "Boris", "Bauer", "sales", "B", "sales"),
        ("mia", "mia@acme.example", SALES_PASSWORD, "Mia", "Marsh", "marketing", "A", "marketing"),
        ("pat", "pat@globex.example", SALES_PASSWORD, "Pat", "Partner", "partner", "A", "partner"),
        ("ivan", "ivan@acme.example", SALES_PASSWORD, "Ivan", "Idle", "sales", "A", "sales"),
    ]
    inactive = {"ivan"}
    rows, licenses, roles = _licenses_and_roles(org)
    users = {}
    for key, username, password, first, last, profile, unit, role in people:
        user = OrgUser.objects.using(DB).create(
            id=ids.new_id("005"),
            org=org,
            username=username,
            password=auth.hash_password(password),
            profile=profiles[profile],
            business_unit=unit,
            is_active=key not in inactive,
        )
        users[key] = user
        rows.append(
            _system_record(
                org,
                "User",
                user.pk,
                {
                    "Username": username,
                    "FirstName": first,
                    "LastName": last,
                    "Name": f"{first} {last}",
                    "Email": username,
                    "Alias": (first[:4] + last[:4])[:8],
                    "ProfileId": profiles[profile].pk,
                    "UserRoleId": roles[role] if role else None,
                    "UserType": LICENSES[PROFILE_LICENSES[profile]][2],
                    "IsActive": key not in inactive,
                    "Division": f"Unit {unit}",
                    "CompanyName": ORG_NAME,
                    "TimeZoneSidKey": "America/Los_Angeles",
                    "LanguageLocaleKey": "en_US",
                },
            )
        )
    for key, p in profiles.items():
        license_key = PROFILE_LICENSES[key]
        data = {
            "Name": p.name,
            "UserLicenseId": licenses[license_key],
            "UserType": LICENSES[license_key][2],
        }
        rows.append(_system_record(org, "Profile", p.pk, data))
    rows.append(
        _system_record(
            org,
            "Organization",
            org.pk,
            {"Name": ORG_NAME, "IsSandbox": True, "OrganizationType": "Enterprise Edition"},
        )
    )
    admin = users["admin"].pk
    for row in rows:
        row.data.update({"CreatedById": admin, "LastModifiedById": admin})
        row.data = {k: v for k, v in row.data.items() if v is not None}
    Record.objects.using(DB).bulk_create(rows)
    return users


def _licenses_and_roles(org: Org) -> tuple[list[Record], dict[str, str], dict[str, str]]:
    """UserLicense and UserRole records (returned unsaved) and their ids by key."""
    rows, licenses, roles = [], {}, {}
    for key, (name, definition, _) in LICENSES.items():
        licenses[key] = ids.new_id("100")
        data = {"Name": name, "LicenseDefinitionKey": definition, "Status": "Active"}
        rows.append(_system_record(org, "UserLicense", licenses[key], data))
    for key in ROLES:
        roles[key] = ids.new_id("00E")
    for key, (name, developer_name, parent, portal_type) in ROLES.items():
        data = {
            "Name": name,
            "DeveloperName": developer_name,
            "ParentRoleId": roles[parent] if parent else None,
            "PortalType": portal_type,
        }
        rows.append(_system_record(org, "UserRole", roles[key], data))
    return rows, licenses, roles


def _queues(org: Org, objects: dict, users: dict) -> dict[str, str]:
    queues = {
        "inbound": ("Inbound Leads", "Inbound_Leads"),
        "enterprise": ("Enterprise Leads", "Enterprise_Leads"),
    }
    made, rows = {}, []
    for key, (name, developer_name) in queues.items():
        queue_id = ids.new_id("00G")
        made[key] = queue_id
        rows.append(
            _system_record(
                org,
                "Group",
                queue_id,
                {
                    "Name": name,
                    "DeveloperName": developer_name,
                    "Type": "Queue",
                    "CreatedById": users["admin"].pk,
                    "LastModifiedById": users["admin"].pk,
                },
            )
        )
    Record.objects.using(DB).bulk_create(rows)
    QueueMember.objects.using(DB).create(queue_id=made["inbound"], user=users["connector"])
    QueueMember.objects.using(DB).create(queue_id=made["inbound"], user=users["alice"])
    QueueMember.objects.using(DB).create(queue_id=made["enterprise"], user=users["bella"])
    return made


def _security(objects: dict, profiles: dict) -> None:
    connector = profiles["connector"]
    for name, suffix in (("Lead", "__c"), ("Contact", "__c"), ("Account", "__pc")):
        fields = {f.name: f for f in Field.objects.using(DB).filter(sobject=objects[name])}
        FieldPermission.objects.using(DB).create(
            profile=connector, field=fields[f"Sales_Notes{suffix}"], readable=True, editable=False
        )
        FieldPermission.objects.using(DB).create(
            profile=connector, field=fields[f"Credit_Limit{suffix}"], readable=False, editable=False
        )
    ObjectPermission.objects.using(DB).create(
        profile=connector, sobject=objects["Account"], can_delete=False
    )
    for name in ("User", "Profile", "Group", "Organization"):
        ObjectPermission.objects.using(DB).create(
            profile=connector,
            sobject=objects[name],
            can_create=False,
            can_edit=False,
            can_delete=False,
        )
    SObject.objects.using(DB).filter(pk=objects["Opportunity"].pk).update(
        sharing_model=SharingModel.READ
    )
    SObject.objects.using(DB).filter(pk=objects["Subscription__c"].pk).update(
        sharing_model=SharingModel.PRIVATE
    )


def _rules(objects: dict) -> None:
    lead, contact = objects["Lead"], objects["Contact"]
    ValidationRule.objects.using(DB).create(
        sobject=lead,
        name="Phone_Format",
        conditions=[{"field": "Phone", "op": "not_matching", "value": r"[0-9+()\-. ]*"}],
        error_message="Phone numbers may only contain digits, spaces and + ( ) - .",
        error_field="Phone",
    )
    ValidationRule.objects.using(DB).create(
        sobject=lead,
        name="Working_Leads_Need_Source",
        conditions=[
            {"field": "Status", "op": "equals", "value": "Working - Contacted"},
            {"field": "LeadSource", "op": "blank"},
        ],
        error_message="Working leads need a Lead Source.",
        error_field="LeadSource",
    )
    ValidationRule.objects.using(DB).create(
        sobject=contact,
        name="Email_Or_Phone",
        conditions=[{"field": "Email", "op": "blank"}, {"field": "Phone", "op": "blank"}],
        error_message="Enter an email address or a phone number.",
        error_field="",
    )
    TriggerRule.objects.using(DB).create(
        sobject=lead,
        name="LeadTrigger",
        conditions=[{"field": "Company", "op": "equals", "value": BLOCKED_COMPANY}],
        exception_type="System.DmlException",
        exception_message="Insert failed. First exception on row 0; first error: "
        "INVALID_CROSS_REFERENCE_KEY, No territory for account {Company}: []",
        line=27,
    )
    DuplicateRule.objects.using(DB).create(
        sobject=lead,
        name="Standard_Lead_Duplicate_Rule",
        match_rule="Standard_Lead_Match_Rule_v1_0",
        match_fields=["Email"],
        action="block",
        alert_text="You're creating a duplicate record. We recommend you use an existing record "
        "instead.",
    )
    DuplicateRule.objects.using(DB).create(
        sobject=contact,
        name="Standard_Contact_Duplicate_Rule",
        match_rule="Standard_Contact_Match_Rule_v1_1",
        match_fields=["Email"],
        action="allow",
        alert_text="Use one of these records?",
    )


class _Maker:
    """Builds demo records with consistent system fields."""

    def __init__(self, org: Org, objects: dict, creator: str):
        self.org, self.objects, self.creator = org, objects, creator
        self.rows: list[Record] = []
        self.start = now() - timedelta(days=120)
        self.rng = random.Random(42)
        self.ext_fields: dict[str, str | None] = {}

    def add(self, sobject: str, data: dict, owner: str = "") -> str:
        record_id = ids.new_id(self.objects[sobject].key_prefix)
        stamp = self.start + timedelta(minutes=len(self.rows) * 30)
        text = format_datetime(stamp)
        full = {
            "Id": record_id,
            "IsDeleted": False,
            "CreatedDate": text,
            "CreatedById": self.creator,
            "LastModifiedDate": text,
            "LastModifiedById": self.creator,
            "SystemModstamp": text,
        }
        if owner:
            full["OwnerId"] = owner
        full.update({k: v for k, v in data.items() if v is not None})
        ext = self._ext_field(sobject)
        self.rows.append(
            Record(
                pk=record_id,
                org=self.org,
                sobject=sobject,
                data=full,
                owner_id=owner,
                email=str(full.get("Email", full.get("PersonEmail", ""))).lower(),
                ext_id=str(full.get(ext, "")).lower() if ext else "",
                system_modstamp=stamp,
            )
        )
        return record_id

    def _ext_field(self, sobject: str) -> str | None:
        if sobject not in self.ext_fields:
            self.ext_fields[sobject] = (
                Field.objects.using(DB)
                .filter(sobject=self.objects[sobject], external_id=True)
                .order_by("name")
                .values_list("name", flat=True)
                .first()
            )
        return self.ext_fields[sobject]


def _person(rng: random.Random, index: int) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    country, state = rng.choice(PLACES)
    codes = {v: k for k, v in metadata.COUNTRIES.items()}
    state_code = None
    if state:
        state_code = {v: k for k, v in metadata.STATES[codes[country]].items()}[state]
    return {
        "FirstName": first,
        "LastName": last,
        "Name": f"{first} {last}",
        "Title": rng.choice(["CTO", "VP Marketing", "Engineer", "Analyst", None]),
        "Phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "LeadSource": rng.choice(metadata.LEAD_SOURCE),
        "HasOptedOutOfEmail": False,
        "DoNotCall": False,
        "Newsletter_Opt_In__c": rng.random() < 0.3,
        "pi__score__c": rng.randint(0, 300),
        "pi__grade__c": rng.choice(["A", "B", "C", "D"]),
        "pi__pardot_hard_bounced__c": False,
        "pi__Needs_Score_Synced__c": False,
        "Region__c": rng.choice(["AMER", "EMEA", "APAC"]),
        "_country": (country, codes[country], state, state_code),
        "_email": f"{first}.{last}.{index}@example.com".lower(),
    }


def _address(data: dict, prefix: str) -> dict:
    country, code, state, state_code = data.pop("_country")
    return {
        f"{prefix}Country": country,
        f"{prefix}CountryCode": code,
        f"{prefix}State": state,
        f"{prefix}StateCode": state_code,
    }


def _records(
    org: Org, objects: dict, users: dict, queues: dict, record_types: list[Record]
) -> None:
    maker = _Maker(org, objects, users["admin"].pk)
    rng = maker.rng
    unit_a = [users["alice"].pk, users["arthur"].pk, users["connector"].pk]
    unit_b = [users["bella"].pk, users["boris"].pk]
    owners = unit_a + unit_b
    campaigns = _campaigns(maker, users)
    accounts, contacts = _accounts_and_contacts(maker, owners)
    person_type = next(r.pk for r in record_types if r.data["IsPersonType"])
    business_type = next(r.pk for r in record_types if not r.data["IsPersonType"])
    for row in maker.rows:
        if row.sobject == "Account":
            row.data.update({"RecordTypeId": business_type, "IsPersonAccount": False})
        elif row.sobject == "Contact":
            row.data["IsPersonAccount"] = False
    _person_accounts(maker, person_type, users["connector"].pk)
    _opportunities(maker, accounts, contacts, owners, campaigns)
    leads = _leads(maker, owners + [queues["inbound"], queues["enterprise"]], accounts, contacts)
    _members(maker, campaigns, leads, contacts)
    for _ in range(200):
        maker.add(
            "Task",
            {
                "Subject": rng.choice(["Call", "Email", "Follow up"]),
                "Status": "Not Started",
                "Priority": "Normal",
                "WhoId": rng.choice(contacts),
            },
            owner=rng.choice(owners),
        )
    for index in range(200):
        account = rng.choice(accounts)
        maker.add(
            "Subscription__c",
            {
                "Name": f"SUB-{index:04d}",
                "Account__c": account,
                "Plan__c": rng.choice(["Starter", "Growth", "Enterprise"]),
                "Active__c": True,
                "Seats__c": rng.randint(1, 500),
                "External_Key__c": f"SUB-{index:04d}",
            },
            owner=rng.choice(owners),
        )
    Record.objects.using(DB).bulk_create(maker.rows, batch_size=1000)


def _campaigns(maker: _Maker, users: dict) -> list[str]:
    names = [
        "Spring Webinar",
        "Summer Conference",
        "Newsletter Q3",
        "Product Launch",
        "Partner Summit",
        "Holiday Promo",
        "Retargeting Ads",
        "Customer Awards",
    ]
    out = []
    for name in names:
        campaign = maker.add(
            "Campaign",
            {"Name": name, "Type": "Webinar", "Status": "In Progress", "IsActive": True},
            owner=users["alice"].pk,
        )
        for order, (label, responded) in enumerate(
            [("Sent", False), ("Responded", True), ("Registered", True)]
        ):
            maker.add(
                "CampaignMemberStatus",
                {
                    "CampaignId": campaign,
                    "Label": label,
                    "IsDefault": order == 0,
                    "HasResponded": responded,
                    "SortOrder": order,
                },
            )
        out.append(campaign)
    return out


def _accounts_and_contacts(maker: _Maker, owners: list[str]) -> tuple[list[str], list[str]]:
    accounts, contacts = [], []
    rng = maker.rng
    for index in range(300):
        owner = owners[index % len(owners)]
        name = f"{rng.choice(COMPANIES)} {index:03d}"
        place = _person(rng, index)
        account = maker.add(
            "Account",
            {
                "Name": name,
                "Industry": rng.choice(metadata.INDUSTRY),
                "Type": "Prospect",
                **_address(place, "Billing"),
            },
            owner=owner,
        )
        accounts.append(account)
        for seat in range(4):
            person = _person(rng, index * 10 + seat)
            email = person.pop("_email")
            contacts.append(
                maker.add(
                    "Contact",
                    {
                        **person,
                        **_address(person, "Mailing"),
                        "Email": email,
                        "AccountId": account,
                        EXTERNAL_ID_FIELD: f"c-{index * 10 + seat}",
                    },
                    owner=owner,
                )
            )
    return accounts, contacts


PERSON_ACCOUNTS = [
    # (first, last, email, Pardot prospect id, city)
    ("Priya", "Raman", "priya.raman@example.com", "pa-1", "Austin"),
    ("Tomas", "Lindqvist", "tomas.lindqvist@example.com", "pa-2", "Seattle"),
]


def _person_accounts(maker: _Maker, person_type: str, owner: str) -> None:
    """Two person accounts, each with its person Contact (see sandbox/person.py)."""
    for first, last, email, prospect_id, city in PERSON_ACCOUNTS:
        shared = {"Phone": "+1 555 010 2000", "OwnerId": owner}
        account = maker.add(
            "Account",
            {
                "RecordTypeId": person_type,
                "IsPersonAccount": True,
                "FirstName": first,
                "LastName": last,
                "Name": f"{first} {last}",
                "PersonEmail": email,
                "PersonMailingCity": city,
                "PersonMailingCountry": "United States",
                "PersonMailingCountryCode": "US",
                "PersonLeadSource": "Web",
                "PersonHasOptedOutOfEmail": False,
                "PersonDoNotCall": False,
                "Customer_Comment__pc": "Individual buyer",
                EXTERNAL_ID_FIELD.removesuffix("__c") + "__pc": prospect_id,
                **shared,
            },
            owner=owner,
        )
        contact = maker.add(
            "Contact",
            {
                "AccountId": account,
                "IsPersonAccount": True,
                "FirstName": first,
                "LastName": last,
                "Name": f"{first} {last}",
                "Email": email,
                "MailingCity": city,
                "MailingCountry": "United States",
                "MailingCountryCode": "US",
                "LeadSource": "Web",
                "HasOptedOutOfEmail": False,
                "DoNotCall": False,
                "Customer_Comment__c": "Individual buyer",
                EXTERNAL_ID_FIELD: prospect_id,
                **shared,
            },
            owner=owner,
        )
        maker.rows[-2].data["PersonContactId"] = contact


def _opportunities(
    maker: _Maker, accounts: list, contacts: list, owners: list, campaigns: list
) -> None:
    rng = maker.rng
    for index, account in enumerate(accounts):
        stage = rng.choice(metadata.STAGES)
        opp = maker.add(
            "Opportunity",
            {
                "Name": f"Deal {index:03d}",
                "AccountId": account,
                "StageName": stage,
                "CloseDate": (now().date() + timedelta(days=rng.randint(-60, 90))).isoformat(),
                "Amount": rng.randint(5, 500) * 1000,
                "IsClosed": stage.startswith("Closed"),
                "IsWon": stage == "Closed Won",
                "CampaignId": rng.choice(campaigns),
            },
            owner=owners[index % len(owners)],
        )
        for seat, role in enumerate(["Decision Maker", "Evaluator"][: rng.randint(1, 2)]):
            maker.add(
                "OpportunityContactRole",
                {
                    "OpportunityId": opp,
                    "ContactId": contacts[index * 4 + seat],
                    "Role": role,
                    "IsPrimary": seat == 0,
                },
            )


def _leads(maker: _Maker, owners: list, accounts: list, contacts: list) -> list[str]:
    rng = maker.rng
    leads = []
    for index in range(1500):
        person = _person(rng, 100_000 + index)
        email = person.pop("_email")
        converted = index < 60
        data = {
            **person,
            **_address(person, ""),
            "Email": email,
            "Company": f"{rng.choice(COMPANIES)} {rng.randint(1, 999)}",
            "Status": "Closed - Converted" if converted else "Open - Not Contacted",
            "IsConverted": converted,
            "IsUnreadByOwner": False,
            EXTERNAL_ID_FIELD: f"l-{index}",
            "Customer_Comment__c": rng.choice([None, "Asked for a demo", "Met at expo"]),
        }
        if converted:
            data.update(
                {
                    "ConvertedAccountId": accounts[index],
                    "ConvertedContactId": contacts[index * 4],
                    "ConvertedDate": now().date().isoformat(),
                }
            )
        leads.append(maker.add("Lead", data, owner=owners[index % len(owners)]))
    return leads


def _members(maker: _Maker, campaigns: list, leads: list, contacts: list) -> None:
    for index, campaign in enumerate(campaigns):
        for lead in leads[60 + index * 60 : 60 + index * 60 + 60]:
            maker.add(
                "CampaignMember",
                {"CampaignId": campaign, "LeadId": lead, "Status": "Sent", "HasResponded": False},
            )
        for contact in contacts[index * 60 : index * 60 + 60]:
            maker.add(
                "CampaignMember",
                {
                    "CampaignId": campaign,
                    "ContactId": contact,
                    "Status": "Responded",
                    "HasResponded": True,
                },
            )
