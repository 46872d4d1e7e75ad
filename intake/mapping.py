"""Which prospect field each column of an uploaded file goes to.

A mapping is ``{column index (as text): field name}``; columns left out are ignored. The guess
reads the header the way a marketer would: our own field names and labels, the headers of a
Pardot prospect export and of a Salesforce Lead or Contact report ("E-mail Address",
"Company / Account", "Lead ID"), and custom fields by label or API name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from prospects.models import CUSTOM_PREFIX, CustomField, Prospect

# Match-only keys: they find the prospect, they are never written to it.
PROSPECT_ID, CRM_ID = "prospect_id", "crm_id"
MATCH_KEYS = {PROSPECT_ID: "Leadbridge prospect id", CRM_ID: "Salesforce Lead/Contact id"}
STANDARD_FIELDS = [
    "email",
    "salutation",
    "first_name",
    "last_name",
    "company",
    "website",
    "job_title",
    "department",
    "industry",
    "annual_revenue",
    "employees",
    "years_in_business",
    "phone",
    "fax",
    "address_one",
    "address_two",
    "city",
    "state",
    "zip",
    "country",
    "territory",
    "source",
    "score",
    "grade",
    "comments",
    "notes",
    "opted_out",
    "do_not_email",
    "do_not_call",
]
# Headers other tools write, normalised (``_key``), beyond our own names and labels.
SYNONYMS = {
    # Pardot prospect export / Salesforce Lead and Contact reports
    "emailaddress": "email",
    "e-mailaddress": "email",
    "e-mail": "email",
    "mail": "email",
    "firstname": "first_name",
    "givenname": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "companyaccount": "company",
    "company/account": "company",
    "accountname": "company",
    "account": "company",
    "organisation": "company",
    "organization": "company",
    "title": "job_title",
    "jobtitle": "job_title",
    "url": "website",
    "web": "website",
    "phonenumber": "phone",
    "businessphone": "phone",
    "faxnumber": "fax",
    "street": "address_one",
    "mailingstreet": "address_one",
    "address": "address_one",
    "addressone": "address_one",
    "address1": "address_one",
    "addressline1": "address_one",
    "addresstwo": "address_two",
    "address2": "address_two",
    "addressline2": "address_two",
    "mailingcity": "city",
    "town": "city",
    "stateprovince": "state",
    "state/province": "state",
    "province": "state",
    "region": "state",
    "mailingstate": "state",
    "mailingstateprovince": "state",
    "zipcode": "zip",
    "zippostalcode": "zip",
    "zip/postalcode": "zip",
    "postalcode": "zip",
    "postcode": "zip",
    "mailingzippostalcode": "zip",
    "mailingpostalcode": "zip",
    "mailingcountry": "country",
    "leadsource": "source",
    "prospectsource": "source",
    "annualrevenue": "annual_revenue",
    "revenue": "annual_revenue",
    "noofemployees": "employees",
    "numberofemployees": "employees",
    "employees": "employees",
    "yearsinbusiness": "years_in_business",
    "description": "comments",
    "emailoptout": "opted_out",
    "optedout": "opted_out",
    "donotemail": "do_not_email",
    "donotcall": "do_not_call",
    "leadid": CRM_ID,
    "contactid": CRM_ID,
    "crmid": CRM_ID,
    "salesforceid": CRM_ID,
    "crmleadfid": CRM_ID,
    "crmcontactfid": CRM_ID,
    "leadbridgeid": PROSPECT_ID,
    "prospectid": PROSPECT_ID,
}
# Headers that look like a field but must not be guessed as one: the owner is set by the
# import's "assign to" option and by Salesforce, and Pardot's "Id" is Pardot's, not ours.
NEVER_GUESSED = {"leadowner", "contactowner", "owner", "ownername", "id", "assigneduser"}


def _key(header: str) -> str:
    """A header reduced for comparison: lower case, without spaces, underscores or a
    Salesforce ``__c`` suffix ("E-mail Address" → "e-mailaddress", "Lead_Score__c" →
    "leadscore")."""
    text = header.strip().lower()
    text = text.removeprefix(CUSTOM_PREFIX)
    text = re.sub(r"__c$", "", text)
    return re.sub(r"[\s_.:*]+", "", text)


def field_choices(custom_fields: Sequence[CustomField] | None = None) -> list[tuple[str, str]]:
    """Every field a column can go to, for the mapping page's selects."""
    custom = list(custom_fields if custom_fields is not None else CustomField.objects.all())
    standard = [(name, _label(name)) for name in STANDARD_FIELDS]
    return [
        *MATCH_KEYS.items(),
        *standard,
        *((field.prospect_field, f"{field.label} (custom)") for field in custom),
    ]


def _label(name: str) -> str:
    label = str(Prospect._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


def _known_headers(custom: Sequence[CustomField]) -> dict[str, str]:
    known = dict(SYNONYMS)
    for name in STANDARD_FIELDS:
        known[_key(name)] = name
        known[_key(_label(name))] = name
    for name in MATCH_KEYS:
        known[_key(name)] = name
    for definition in custom:
        known.setdefault(_key(definition.label), definition.prospect_field)
        known[_key(definition.api_name)] = definition.prospect_field
    return known


def guess_mapping(
    headers: Sequence[str], custom_fields: Sequence[CustomField] | None = None
) -> dict[str, str]:
    """Column index → field for every header recognised; a field goes to its first column
    only (a second "Email" column is left for the marketer to decide)."""
    custom = list(custom_fields if custom_fields is not None else CustomField.objects.all())
    known = _known_headers(custom)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        key = _key(header)
        target = known.get(key) if key not in NEVER_GUESSED else None
        if target and target not in taken:
            mapping[str(index)] = target
            taken.add(target)
    return mapping


def from_template(headers: Sequence[str], saved: Mapping[str, str]) -> dict[str, str]:
    """A template's mapping (header text → field) applied to this file's columns."""
    by_header = {_key(header): field for header, field in saved.items()}
    mapping = {}
    for index, header in enumerate(headers):
        target = by_header.get(_key(header))
        if target and target not in mapping.values():
            mapping[str(index)] = target
    return mapping


def for_template(headers: Sequence[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """This file's mapping as a template keeps it: by header text, so column order can move."""
    return {
        headers[int(index)]: field
        for index, field in mapping.items()
        if index.isdigit() and int(index) < len(headers)
    }


def duplicate_headers(headers: Sequence[str]) -> list[str]:
    """Header texts that appear more than once (ignoring case and spacing)."""
    counts = Counter(_key(header) for header in headers if header.strip())
    seen: set[str] = set()
    duplicates = []
    for header in headers:
        key = _key(header)
        if counts[key] > 1 and key not in seen:
            seen.add(key)
            duplicates.append(header.strip())
    return duplicates


def mapping_problems(
    headers: Sequence[str], mapping: Mapping[str, str], choices: Mapping[str, str]
) -> list[str]:
    """What is wrong with a mapping, as sentences for the page (empty: it can run).

    A field may take one column only, and rows must be matchable: by email, CRM id or
    prospect id.
    """
    problems = []
    columns: dict[str, list[str]] = {}
    for index, field in sorted(mapping.items(), key=lambda item: int(item[0])):
        if not index.isdigit() or int(index) >= len(headers):
            problems.append(f"Column {index} is not in the file.")
        elif field not in choices:
            problems.append(f"{headers[int(index)]!r} is mapped to an unknown field {field!r}.")
        else:
            columns.setdefault(field, []).append(_column_name(headers, int(index)))
    for field, names in columns.items():
        if len(names) > 1:
            problems.append(
                f"{' and '.join(names)} are both mapped to {choices[field]}: choose one of them "
                "and set the other to “Ignore”."
            )
    if not ({"email", CRM_ID, PROSPECT_ID} & columns.keys()):
        problems.append(
            "No column is mapped to Email (or to a CRM id or prospect id): rows could not be "
            "matched to prospects. Map the column holding email addresses to Email."
        )
    return problems


def _column_name(headers: Sequence[str], index: int) -> str:
    return f"column {index + 1} ({headers[index] or 'no header'!r})"
