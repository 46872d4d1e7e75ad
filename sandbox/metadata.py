"""Standard objects and fields, with Salesforce's real API names, types and lengths.

``install_standard_objects(org)`` writes them as ``SObject``/``Field`` rows; the demo org adds
its custom fields on top (see ``sandbox/demo.py``). Field specs are compact tuples expanded by
``spec()``: flags are ``req`` (createable, not nillable, not defaulted), ``ro`` (not writable),
``create`` (create-only), ``def`` (defaulted on create), ``calc``, ``uniq``, ``ext`` and
``restricted``.
"""

from sandbox import ids
from sandbox.models import Field, Org, Record, SObject
from sandbox.values import format_datetime, now

COUNTRIES: dict[str, str] = {
    "US": "United States",
    "CA": "Canada",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "ES": "Spain",
    "IT": "Italy",
    "NL": "Netherlands",
    "BE": "Belgium",
    "IE": "Ireland",
    "AU": "Australia",
    "NZ": "New Zealand",
    "JP": "Japan",
    "IN": "India",
    "BR": "Brazil",
    "MX": "Mexico",
    "SE": "Sweden",
    "CH": "Switzerland",
    "SG": "Singapore",
    "ZA": "South Africa",
}
STATES: dict[str, dict[str, str]] = {
    "US": {
        "AL": "Alabama",
        "AK": "Alaska",
        "AZ": "Arizona",
        "CA": "California",
        "CO": "Colorado",
        "CT": "Connecticut",
        "FL": "Florida",
        "GA": "Georgia",
        "IL": "Illinois",
        "MA": "Massachusetts",
        "MI": "Michigan",
        "MN": "Minnesota",
        "NJ": "New Jersey",
        "NY": "New York",
        "NC": "North Carolina",
        "OH": "Ohio",
        "OR": "Oregon",
        "PA": "Pennsylvania",
        "TX": "Texas",
        "VA": "Virginia",
        "WA": "Washington",
        "WI": "Wisconsin",
    },
    "CA": {
        "AB": "Alberta",
        "BC": "British Columbia",
        "MB": "Manitoba",
        "ON": "Ontario",
        "QC": "Quebec",
        "NS": "Nova Scotia",
    },
    "AU": {
        "NSW": "New South Wales",
        "VIC": "Victoria",
        "QLD": "Queensland",
        "WA": "Western Australia",
    },
}

LEAD_STATUS = [
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
]
LEAD_SOURCE = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
INDUSTRY = [
    "Agriculture",
    "Banking",
    "Consulting",
    "Education",
    "Energy",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Other",
]
STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]
SALUTATIONS = ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]
# User.UserType / Profile.UserType: set by the profile's user license, read-only on the API.
USER_TYPES = [
    "Standard",
    "PowerPartner",
    "PowerCustomerSuccess",
    "CustomerSuccess",
    "CspLitePortal",
    "CsnOnly",
    "Guest",
]

Spec = tuple  # (name, type, length, label, flags, extra)


def spec(name: str, type_: str, length: int = 0, label: str = "", flags: str = "", **extra) -> Spec:
    """A compact field description; see the module docstring for flags."""
    return (name, type_, length, label or _label(name), flags.split(), extra)


def _label(name: str) -> str:
    base = name.removesuffix("__c").removesuffix("__pc").removeprefix("pi__")
    base = base.removesuffix("Id") if name.endswith("Id") and len(name) > 2 else base
    out = ""
    for i, ch in enumerate(base):
        if ch.isupper() and i and base[i - 1].islower():
            out += " "
        out += ch
    return out.replace("_", " ").strip() or name


def picklist(values: list[str], default: str | None = None) -> list[dict]:
    """Describe-shaped picklist entries."""
    return [
        {"active": True, "defaultValue": v == default, "label": v, "validFor": None, "value": v}
        for v in values
    ]


def ref(name: str, to: list[str], rel: str, flags: str = "", label: str = "") -> Spec:
    return spec(name, "reference", 18, label, flags, reference_to=to, relationship_name=rel)


def pick(
    name: str,
    values: list[str],
    flags: str = "",
    default: str | None = None,
    length: int = 255,
    label: str = "",
) -> Spec:
    return spec(
        name,
        "picklist",
        length,
        label,
        flags,
        picklist_values=picklist(values, default),
        default_value=default,
    )


def system_fields(owner_to: list[str] | None) -> list[Spec]:
    """Id, audit fields and (when the object has one) OwnerId."""
    out = [
        spec("Id", "id", 18, "Record ID", "ro def"),
        spec("IsDeleted", "boolean", 0, "Deleted", "ro def"),
        spec("CreatedDate", "datetime", 0, "Created Date", "ro def"),
        ref("CreatedById", ["User"], "CreatedBy", "ro def", "Created By ID"),
        spec("LastModifiedDate", "datetime", 0, "Last Modified Date", "ro def"),
        ref("LastModifiedById", ["User"], "LastModifiedBy", "ro def", "Last Modified By ID"),
        spec("SystemModstamp", "datetime", 0, "System Modstamp", "ro def"),
    ]
    if owner_to:
        out.append(ref("OwnerId", owner_to, "Owner", "def", "Owner ID"))
    return out


def address(prefix: str, label: str) -> list[Spec]:
    """Street/City/State/PostalCode/Country (+ codes) of one address."""
    return [
        spec(f"{prefix}Street", "textarea", 255, f"{label} Street"),
        spec(f"{prefix}City", "string", 40, f"{label} City"),
        spec(f"{prefix}State", "string", 80, f"{label} State/Province"),
        spec(f"{prefix}PostalCode", "string", 20, f"{label} Zip/Postal Code"),
        spec(f"{prefix}Country", "string", 80, f"{label} Country"),
        pick(f"{prefix}StateCode", [], length=10, label=f"{label} State Code"),
        pick(f"{prefix}CountryCode", list(COUNTRIES), length=10, label=f"{label} Country Code"),
    ]


def person_fields() -> list[Spec]:
    return [
        spec("LastName", "string", 80, "Last Name", "req"),
        spec("FirstName", "string", 40, "First Name"),
        pick("Salutation", SALUTATIONS, length=40),
        spec("Name", "string", 121, "Full Name", "ro calc", name_field=True),
        spec("Title", "string", 128),
        spec("Email", "email", 80),
        spec("Phone", "phone", 40),
        spec("MobilePhone", "phone", 40, "Mobile Phone"),
        spec("Fax", "phone", 40),
        spec("Description", "textarea", 32000),
        pick("LeadSource", LEAD_SOURCE, label="Lead Source"),
        spec("HasOptedOutOfEmail", "boolean", 0, "Email Opt Out", "def"),
        spec("DoNotCall", "boolean", 0, "Do Not Call", "def"),
        spec("EmailBouncedReason", "string", 255, "Email Bounced Reason"),
        spec("EmailBouncedDate", "datetime", 0, "Email Bounced Date"),
    ]


# Lead's State/Country carry the labels Salesforce uses in FIELD_INTEGRITY_EXCEPTION.
LEAD_ADDRESS = [
    spec("Street", "textarea", 255),
    spec("City", "string", 40),
    spec("State", "string", 80, "State/Province"),
    spec("PostalCode", "string", 20, "Zip/Postal Code"),
    spec("Country", "string", 80, "Country"),
    pick("StateCode", [], length=10, label="State/Province Code"),
    pick("CountryCode", list(COUNTRIES), length=10, label="Country Code"),
]

OBJECTS: dict[str, dict] = {
    "Lead": {
        "label": ("Lead", "Leads"),
        "owner": ["Group", "User"],
        "fields": person_fields()
        + LEAD_ADDRESS
        + [
            spec("Company", "string", 255, "Company", "req"),
            spec("Website", "url", 255),
            pick("Status", LEAD_STATUS, "def", default=LEAD_STATUS[0], label="Lead Status"),
            pick("Industry", INDUSTRY),
            pick("Rating", ["Hot", "Warm", "Cold"]),
            spec("AnnualRevenue", "currency", 0, "Annual Revenue", precision=18, scale=0),
            spec("NumberOfEmployees", "int", 0, "Employees", precision=8),
            spec("IsConverted", "boolean", 0, "Converted", "ro def"),
            spec("ConvertedDate", "date", 0, "Converted Date", "ro"),
            ref(
                "ConvertedAccountId", ["Account"], "ConvertedAccount", "ro", "Converted Account ID"
            ),
            ref(
                "ConvertedContactId", ["Contact"], "ConvertedContact", "ro", "Converted Contact ID"
            ),
            ref(
                "ConvertedOpportunityId",
                ["Opportunity"],
                "ConvertedOpportunity",
                "ro",
                "Converted Opportunity ID",
            ),
            spec("IsUnreadByOwner", "boolean", 0, "Unread By Owner", "def"),
            ref("MasterRecordId", ["Lead"], "MasterRecord", "ro", "Master Record ID"),
        ],
    },
    "Contact": {
        "label": ("Contact", "Contacts"),
        "owner": ["User"],
        "fields": person_fields()
        + address("Mailing", "Mailing")
        + [
            ref("AccountId", ["Account"], "Account", label="Account ID"),
            ref("ReportsToId", ["Contact"], "ReportsTo", label="Reports To ID"),
            spec("Department", "string", 80),
            spec("HomePhone", "phone", 40, "Home Phone"),
            spec("Birthdate", "date", 0),
            ref("MasterRecordId", ["Contact"], "MasterRecord", "ro", "Master Record ID"),
        ],
    },
    "Account": {
        "label": ("Account", "Accounts"),
        "owner": ["User"],
        "fields": [
            spec("Name", "string", 255, "Account Name", "req", name_field=True),
            pick(
                "Type",
                ["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"],
                label="Account Type",
            ),
            pick("Industry", INDUSTRY),
            pick("AccountSource", LEAD_SOURCE, label="Account Source"),
            spec("AnnualRevenue", "currency", 0, "Annual Revenue", precision=18, scale=0),
            spec("NumberOfEmployees", "int", 0, "Employees", precision=8),
            spec("Phone", "phone", 40, "Account Phone"),
            spec("Fax", "phone", 40, "Account Fax"),
            spec("Website", "url", 255),
            spec("Description", "textarea", 32000, "Account Description"),
            ref("ParentId", ["Account"], "Parent", label="Parent Account ID"),
            ref("MasterRecordId", ["Account"], "MasterRecord", "ro", "Master Record ID"),
        ]
        + address("Billing", "Billing")
        + address("Shipping", "Shipping"),
    },
    "Opportunity": {
        "label": ("Opportunity", "Opportunities"),
        "owner": ["User"],
        "fields": [
            spec("Name", "string", 120, "Name", "req", name_field=True),
            ref("AccountId", ["Account"], "Account", label="Account ID"),
            pick("StageName", STAGES, "req", label="Stage"),
            spec("CloseDate", "date", 0, "Close Date", "req"),
            spec("Amount", "currency", 0, precision=18, scale=2),
            spec("Probability", "percent", 0, "Probability (%)", precision=3, scale=0),
            pick(
                "Type",
                ["New Customer", "Existing Customer - Upgrade", "Existing Customer - Renewal"],
                label="Opportunity Type",
            ),
            pick("LeadSource", LEAD_SOURCE, label="Lead Source"),
            ref("CampaignId", ["Campaign"], "Campaign", label="Campaign ID"),
            spec("IsClosed", "boolean", 0, "Closed", "ro def"),
            spec("IsWon", "boolean", 0, "Won", "ro def"),
            spec("Description", "textarea", 32000),
        ],
    },
    "OpportunityContactRole": {
        "label": ("Opportunity Contact Role", "Opportunity Contact Role"),
        "owner": None,
        "fields": [
            ref("OpportunityId", ["Opportunity"], "Opportunity", "req", "Opportunity ID"),
            ref("ContactId", ["Contact"], "Contact", "req", "Contact ID"),
            pick(
                "Role",
                [
                    "Business User",
                    "Decision Maker",
                    "Economic Buyer",
                    "Evaluator",
                    "Influencer",
                    "Other",
                ],
                length=40,
            ),
            spec("IsPrimary", "boolean", 0, "Primary", "def"),
        ],
    },
    "Campaign": {
        "label": ("Campaign", "Campaigns"),
        "owner": ["User"],
        "fields": [
            spec("Name", "string", 80, "Campaign Name", "req", name_field=True),
            pick("Type", ["Conference", "Webinar", "Email", "Advertisement", "Other"]),
            pick("Status", ["Planned", "In Progress", "Completed", "Aborted"]),
            spec("StartDate", "date", 0, "Start Date"),
            spec("EndDate", "date", 0, "End Date"),
            spec("IsActive", "boolean", 0, "Active", "def"),
            spec("BudgetedCost", "currency", 0, "Budgeted Cost in Campaign", precision=18, scale=0),
            spec("ActualCost", "currency", 0, "Actual Cost in Campaign", precision=18, scale=0),
            ref("ParentId", ["Campaign"], "Parent", label="Parent Campaign ID"),
            spec("Description", "textarea", 32000),
            spec("NumberOfLeads", "int", 0, "Leads in Campaign", "ro def", precision=9),
            spec("NumberOfContacts", "int", 0, "Contacts in Campaign", "ro def", precision=9),
        ],
    },
    "CampaignMemberStatus": {
        "label": ("Campaign Member Status", "Campaign Member Statuses"),
        "owner": None,
        "prefix": "01Y",
        "fields": [
            ref("CampaignId", ["Campaign"], "Campaign", "req create", "Campaign ID"),
            spec("Label", "string", 765, "Member Status", "req"),
            spec("IsDefault", "boolean", 0, "Default", "def"),
            spec("HasResponded", "boolean", 0, "Responded", "def"),
            spec("SortOrder", "int", 0, "Sort Order", precision=9),
        ],
    },
    "CampaignMember": {
        "label": ("Campaign Member", "Campaign Members"),
        "owner": None,
        "fields": [
            ref("CampaignId", ["Campaign"], "Campaign", "req create", "Campaign ID"),
            ref("LeadId", ["Lead"], "Lead", "create", "Lead ID"),
            ref("ContactId", ["Contact"], "Contact", "create", "Contact ID"),
            spec("Status", "picklist", 40, "Status", "def"),
            spec("HasResponded", "boolean", 0, "Responded", "ro def"),
            spec("FirstRespondedDate", "date", 0, "First Responded Date", "ro"),
        ],
    },
    "User": {
        "label": ("User", "Users"),
        "owner": None,
        "fields": [
            spec("Username", "string", 80, "Username", "req uniq"),
            spec("LastName", "string", 80, "Last Name", "req"),
            spec("FirstName", "string", 40, "First Name"),
            spec("Name", "string", 121, "Full Name", "ro calc", name_field=True),
            spec("Email", "email", 128, "Email", "req"),
            spec("Alias", "string", 8, "Alias", "req"),
            ref("ProfileId", ["Profile"], "Profile", "req", "Profile ID"),
            ref("UserRoleId", ["UserRole"], "UserRole", label="Role ID"),
            spec("IsActive", "boolean", 0, "Active", "def"),
            pick(
                "UserType", USER_TYPES, "ro def", default="Standard", length=40, label="User Type"
            ),
            spec("Title", "string", 80),
            spec("Department", "string", 80),
            spec("Division", "string", 80),
            spec("CompanyName", "string", 80, "Company Name"),
            pick(
                "TimeZoneSidKey",
                ["America/Los_Angeles", "America/New_York", "Europe/London"],
                "def",
                default="America/Los_Angeles",
                length=40,
                label="Time Zone",
            ),
            pick(
                "LanguageLocaleKey", ["en_US"], "def", default="en_US", length=40, label="Language"
            ),
        ],
    },
    "Profile": {
        "label": ("Profile", "Profiles"),
        "owner": None,
        "readonly": True,
        "fields": [
            spec("Name", "string", 255, "Name", "req", name_field=True),
            ref("UserLicenseId", ["UserLicense"], "UserLicense", "req", "User License ID"),
            pick(
                "UserType", USER_TYPES, "ro def", default="Standard", length=40, label="User Type"
            ),
        ],
    },
    "UserLicense": {
        "label": ("User License", "User Licenses"),
        "owner": None,
        "readonly": True,
        "prefix": "100",
        "fields": [
            spec("Name", "string", 40, "Name", "ro", name_field=True),
            spec("LicenseDefinitionKey", "string", 40, "License Definition Key", "ro"),
            pick("Status", ["Active", "Disabled"], "ro", length=40),
        ],
    },
    "UserRole": {
        "label": ("Role", "Roles"),
        "owner": None,
        "fields": [
            spec("Name", "string", 80, "Name", "req", name_field=True),
            spec("DeveloperName", "string", 80, "Developer Name"),
            ref("ParentRoleId", ["UserRole"], "ParentRole", label="Parent Role ID"),
            pick(
                "PortalType",
                ["None", "CustomerPortal", "Partner"],
                "def",
                default="None",
                length=40,
                label="Portal Type",
            ),
        ],
    },
    "Group": {
        "label": ("Group", "Groups"),
        "owner": None,
        "readonly": True,
        "fields": [
            spec("Name", "string", 40, "Name", "req", name_field=True),
            spec("DeveloperName", "string", 80, "Developer Name"),
            pick("Type", ["Queue", "Regular"], length=40),
            spec("Email", "email", 255),
        ],
    },
    "RecordType": {
        "label": ("Record Type", "Record Types"),
        "owner": None,
        "readonly": True,
        "prefix": "012",
        "fields": [
            spec("Name", "string", 80, "Record Type Name", "req", name_field=True),
            spec("DeveloperName", "string", 80, "Record Type Name"),
            spec("SobjectType", "string", 40, "SObject Type Name"),
            spec("IsActive", "boolean", 0, "Active", "def"),
            spec("IsPersonType", "boolean", 0, "Is Person Type", "ro def"),
            spec("Description", "string", 255),
        ],
    },
    "Organization": {
        "label": ("Organization", "Organizations"),
        "owner": None,
        "readonly": True,
        "fields": [
            spec("Name", "string", 80, "Name", name_field=True),
            spec("IsSandbox", "boolean", 0, "Is Sandbox", "def"),
            spec("OrganizationType", "string", 40, "Edition"),
        ],
    },
    "Task": {
        "label": ("Task", "Tasks"),
        "owner": ["Group", "User"],
        "fields": [
            spec("Subject", "string", 255, "Subject", name_field=True),
            pick(
                "Status",
                ["Not Started", "In Progress", "Completed"],
                "def",
                default="Not Started",
                length=40,
            ),
            pick("Priority", ["High", "Normal", "Low"], "def", default="Normal", length=40),
            pick("Type", ["Call", "Email", "Meeting", "Other"], length=40),
            ref("WhoId", ["Contact", "Lead"], "Who", label="Name ID"),
            ref("WhatId", ["Account", "Opportunity", "Campaign"], "What", label="Related To ID"),
            spec("ActivityDate", "date", 0, "Due Date Only"),
            spec("Description", "textarea", 32000, "Comments"),
        ],
    },
    "Subscription__c": {
        "label": ("Subscription", "Subscriptions"),
        "owner": ["User"],
        "prefix": "a00",
        "custom": True,
        "fields": [
            spec("Name", "string", 80, "Subscription Name", "req", name_field=True),
            ref("Contact__c", ["Contact"], "Contact__r", label="Contact"),
            ref("Account__c", ["Account"], "Account__r", label="Account"),
            pick("Plan__c", ["Starter", "Growth", "Enterprise"], "restricted", label="Plan"),
            pick(
                "Features__c", ["API", "SSO", "Audit Log", "Sandbox"], length=4099, label="Features"
            ),
            spec("Seats__c", "double", 0, "Seats", precision=18, scale=0),
            spec("Monthly_Fee__c", "currency", 0, "Monthly Fee", precision=16, scale=2),
            spec("Discount__c", "percent", 0, "Discount", precision=5, scale=2),
            spec("Start_Date__c", "date", 0, "Start Date"),
            spec("Signed_At__c", "datetime", 0, "Signed At"),
            spec("Active__c", "boolean", 0, "Active", "def", default_value=False),
            spec("Support_Email__c", "email", 80, "Support Email"),
            spec("Support_Phone__c", "phone", 40, "Support Phone"),
            spec("Portal_Url__c", "url", 255, "Portal URL"),
            spec("Notes__c", "textarea", 1000, "Notes"),
            spec("External_Key__c", "string", 40, "External Key", "ext uniq"),
            spec("Legacy_Id__c", "string", 40, "Legacy Id", "ext"),
        ],
    },
}


def _field_row(sobject: SObject, item: Spec) -> Field:
    name, type_, length, label, flags, extra = item
    writable = "ro" not in flags
    if type_ == "multipicklist" or name == "Features__c":
        type_ = "multipicklist"
    return Field(
        sobject=sobject,
        name=name,
        label=label,
        type=type_,
        length=length,
        precision=extra.get("precision", 0),
        scale=extra.get("scale", 0),
        nillable="req" not in flags and type_ != "boolean" and name != "Id",
        createable=writable,
        updateable=writable and "create" not in flags,
        defaulted_on_create="def" in flags or type_ == "boolean",
        default_value=extra.get("default_value"),
        calculated="calc" in flags,
        unique="uniq" in flags,
        external_id="ext" in flags,
        custom=name.endswith(("__c", "__pc")),
        restricted_picklist="restricted" in flags,
        picklist_values=extra.get("picklist_values", []),
        reference_to=extra.get("reference_to", []),
        relationship_name=extra.get("relationship_name", ""),
        name_field=extra.get("name_field", False),
    )


def add_fields(sobject: SObject, specs: list[Spec]) -> None:
    """Create field rows for an object in one statement."""
    Field.objects.bulk_create([_field_row(sobject, item) for item in specs])


def install_standard_objects(org: Org) -> dict[str, SObject]:
    """Create every object of ``OBJECTS`` with its system and standard fields."""
    made = {}
    for name, definition in OBJECTS.items():
        label, plural = definition["label"]
        sobject = SObject.objects.create(
            org=org,
            name=name,
            label=label,
            label_plural=plural,
            key_prefix=definition.get("prefix") or ids.KEY_PREFIXES[name],
            custom=definition.get("custom", False),
            queryable_only=definition.get("readonly", False),
        )
        add_fields(sobject, system_fields(definition["owner"]) + definition["fields"])
        made[name] = sobject
    return made


# Person accounts: Account field → the person Contact field it mirrors. Custom contact fields
# ``X__c`` appear on Account as ``X__pc``; Phone, Fax, Description and OwnerId are shared.
PERSON_FIELDS: dict[str, str] = {
    "Salutation": "Salutation",
    "FirstName": "FirstName",
    "LastName": "LastName",
    "PersonEmail": "Email",
    "PersonTitle": "Title",
    "PersonDepartment": "Department",
    "PersonMailingStreet": "MailingStreet",
    "PersonMailingCity": "MailingCity",
    "PersonMailingState": "MailingState",
    "PersonMailingPostalCode": "MailingPostalCode",
    "PersonMailingCountry": "MailingCountry",
    "PersonMailingStateCode": "MailingStateCode",
    "PersonMailingCountryCode": "MailingCountryCode",
    "PersonHomePhone": "HomePhone",
    "PersonMobilePhone": "MobilePhone",
    "PersonLeadSource": "LeadSource",
    "PersonHasOptedOutOfEmail": "HasOptedOutOfEmail",
    "PersonDoNotCall": "DoNotCall",
    "PersonBirthdate": "Birthdate",
    "PersonEmailBouncedReason": "EmailBouncedReason",
    "PersonEmailBouncedDate": "EmailBouncedDate",
}
SHARED_PERSON_FIELDS = ("Phone", "Fax", "Description", "OwnerId")


def person_account_fields(contact_custom: list[Spec]) -> list[Spec]:
    """Account's person-account fields: record type, person flags, Person* and ``__pc``."""
    standard = [
        ref("RecordTypeId", ["RecordType"], "RecordType", label="Record Type ID"),
        spec("IsPersonAccount", "boolean", 0, "Is Person Account", "ro def"),
        ref("PersonContactId", ["Contact"], "PersonContact", "ro", "Person Contact ID"),
        pick("Salutation", SALUTATIONS, length=40),
        spec("FirstName", "string", 40, "First Name"),
        spec("LastName", "string", 80, "Last Name"),
        spec("PersonEmail", "email", 80, "Email"),
        spec("PersonTitle", "string", 128, "Title"),
        spec("PersonDepartment", "string", 80, "Department"),
        *address("PersonMailing", "Mailing"),
        spec("PersonHomePhone", "phone", 40, "Home Phone"),
        spec("PersonMobilePhone", "phone", 40, "Mobile"),
        pick("PersonLeadSource", LEAD_SOURCE, label="Lead Source"),
        spec("PersonHasOptedOutOfEmail", "boolean", 0, "Email Opt Out", "def"),
        spec("PersonDoNotCall", "boolean", 0, "Do Not Call", "def"),
        spec("PersonBirthdate", "date", 0, "Birthdate"),
        spec("PersonEmailBouncedReason", "string", 255, "Email Bounced Reason"),
        spec("PersonEmailBouncedDate", "datetime", 0, "Email Bounced Date"),
    ]
    mirrored = [
        (name.removesuffix("__c") + "__pc", *rest)
        for name, *rest in contact_custom
        if name.endswith("__c")
    ]
    return standard + mirrored


def enable_person_accounts(org: Org, objects: dict[str, SObject], contact_custom: list[Spec]):
    """Turn person accounts on: Account and Contact fields, and the two Account record types.

    Returns the record types as ``Record`` rows to store (business, person).
    """
    add_fields(objects["Account"], person_account_fields(contact_custom))
    add_fields(
        objects["Contact"], [spec("IsPersonAccount", "boolean", 0, "Is Person Account", "ro def")]
    )
    stamp = now()
    rows = []
    for name, developer, person in (
        ("Business Account", "Business_Account", False),
        ("Person Account", "PersonAccount", True),
    ):
        record_id = ids.new_id("012")
        text = format_datetime(stamp)
        data = {
            "Id": record_id,
            "IsDeleted": False,
            "CreatedDate": text,
            "LastModifiedDate": text,
            "SystemModstamp": text,
            "Name": name,
            "DeveloperName": developer,
            "SobjectType": "Account",
            "IsActive": True,
            "IsPersonType": person,
        }
        rows.append(
            Record(pk=record_id, org=org, sobject="RecordType", data=data, system_modstamp=stamp)
        )
    return rows
