"""What an org admin does to records outside the API: convert a lead, merge, delete, undelete.

These run as the org itself (no field rules), like Salesforce's own conversion and merge, and
stamp SystemModstamp so an incremental sync sees every change.
"""

from django.db import transaction

from sandbox import ids, person, rules
from sandbox.models import Org, Record
from sandbox.records import DB, where_field
from sandbox.schema import get_schema
from sandbox.values import format_datetime, now

CONTACT_FROM_LEAD = {
    "Street": "MailingStreet",
    "City": "MailingCity",
    "State": "MailingState",
    "PostalCode": "MailingPostalCode",
    "Country": "MailingCountry",
    "StateCode": "MailingStateCode",
    "CountryCode": "MailingCountryCode",
}
SKIP_ON_CONVERT = {
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "Status",
    "Company",
    "IsConverted",
    "ConvertedDate",
    "ConvertedAccountId",
    "ConvertedContactId",
    "ConvertedOpportunityId",
    "IsUnreadByOwner",
    "MasterRecordId",
    "Industry",
    "Rating",
    "AnnualRevenue",
    "NumberOfEmployees",
    "Website",
}


def _touch(record: Record, changes: dict, user_id: str = "") -> None:
    stamp = now()
    text = format_datetime(stamp)
    record.data = {
        k: v
        for k, v in {
            **record.data,
            **changes,
            "SystemModstamp": text,
            "LastModifiedDate": text,
        }.items()
        if v is not None
    }
    if user_id:
        record.data["LastModifiedById"] = user_id
    record.system_modstamp = stamp
    record.is_deleted = bool(record.data.get("IsDeleted"))
    record.owner_id = record.data.get("OwnerId", "")
    record.email = str(record.data.get("Email", record.data.get("PersonEmail", ""))).lower()
    record.save(using=DB)


def _new(org: Org, sobject: str, data: dict, user_id: str, record_id: str = "") -> Record:
    schema = get_schema(org)
    obj = schema.sobject(sobject)
    stamp = now()
    text = format_datetime(stamp)
    record_id = record_id or ids.new_id(obj.key_prefix)
    full = {
        "Id": record_id,
        "IsDeleted": False,
        "CreatedDate": text,
        "CreatedById": user_id,
        "LastModifiedDate": text,
        "LastModifiedById": user_id,
        "SystemModstamp": text,
        **{k: v for k, v in data.items() if v is not None and obj.field(k)},
    }
    ext = obj.indexed_ext_field
    rules.apply_defaults(obj, full)
    if sobject == "Contact" or full.get("IsPersonAccount"):
        person.derive_name(full)
    return Record.objects.using(DB).create(
        pk=record_id,
        org=org,
        sobject=sobject,
        data=full,
        owner_id=full.get("OwnerId", ""),
        email=str(full.get(obj.email_field, "")).lower() if obj.email_field else "",
        ext_id=str(full.get(ext, "")).lower() if ext else "",
        system_modstamp=stamp,
    )


def convert_lead(
    lead: Record, *, account: Record | None = None, create_opportunity: bool = False
) -> dict:
    """Convert a lead as Salesforce does.

    1. Create an Account from Company (or use ``account``) and a Contact from the lead's fields;
       with person accounts on and no Company, a person account and its person Contact.
    2. Optionally create an Opportunity for the account.
    3. Mark the lead converted (IsConverted, Converted*Id, ConvertedDate, Status).
    4. Move the lead's campaign memberships to the contact.
    """
    if lead.sobject != "Lead" or lead.data.get("IsConverted"):
        raise ValueError("Only unconverted leads can be converted.")
    org, data = lead.org, lead.data
    owner = data.get("OwnerId", "")
    if not owner.startswith("005"):
        owner = data.get("CreatedById", "")
    contact_data = {
        CONTACT_FROM_LEAD.get(k, k): v for k, v in data.items() if k not in SKIP_ON_CONVERT
    }
    with transaction.atomic(using=DB):
        if account is None and not data.get("Company") and _person_accounts(org):
            account, contact = _new_person_account(org, {**contact_data, "OwnerId": owner}, owner)
        else:
            account = account or _new(
                org, "Account", {"Name": data.get("Company"), "OwnerId": owner}, owner
            )
            contact = _new(
                org, "Contact", {**contact_data, "AccountId": account.pk, "OwnerId": owner}, owner
            )
        opportunity = None
        if create_opportunity:
            opportunity = _new(
                org,
                "Opportunity",
                {
                    "Name": f"{data.get('Company')}-",
                    "AccountId": account.pk,
                    "StageName": "Prospecting",
                    "CloseDate": now().date().isoformat(),
                    "OwnerId": owner,
                },
                owner,
            )
        _touch(
            lead,
            {
                "IsConverted": True,
                "ConvertedAccountId": account.pk,
                "ConvertedContactId": contact.pk,
                "ConvertedDate": now().date().isoformat(),
                "ConvertedOpportunityId": opportunity.pk if opportunity else None,
                "Status": "Closed - Converted",
            },
        )
        members = where_field(
            Record.objects.using(DB).filter(org=org, sobject="CampaignMember", is_deleted=False),
            "LeadId",
            "exact",
            lead.pk,
        )
        for member in members:
            _touch(member, {"ContactId": contact.pk})
    return {
        "account": account.pk,
        "contact": contact.pk,
        "opportunity": opportunity.pk if opportunity else None,
    }


def _person_accounts(org: Org) -> bool:
    return person.enabled(get_schema(org).sobject("Account"))


def _new_person_account(org: Org, contact_data: dict, user_id: str) -> tuple[Record, Record]:
    """A person account and its person Contact, both from the same contact fields."""
    contact_id = ids.new_id("003")
    account_fields = get_schema(org).sobject("Account").fields.values()
    mirrored = {
        f.name: contact_data.get(person.contact_field(f.name))
        for f in account_fields
        if person.contact_field(f.name)
    }
    types = person.record_types(org.pk)
    account = _new(
        org,
        "Account",
        {
            **mirrored,
            "RecordTypeId": person.person_type_id(types),
            "IsPersonAccount": True,
            "PersonContactId": contact_id,
        },
        user_id,
    )
    contact = _new(
        org,
        "Contact",
        {**contact_data, "AccountId": account.pk, "IsPersonAccount": True},
        user_id,
        record_id=contact_id,
    )
    return account, contact


def delete_record(record: Record) -> None:
    """Move a record to the recycle bin (IsDeleted, queryAll and /deleted see it)."""
    stamp = now()
    record.deleted_at = stamp
    _touch(record, {"IsDeleted": True})


def undelete_record(record: Record) -> None:
    """Restore a record from the recycle bin (a person account with its person Contact)."""
    record.deleted_at = None
    _touch(record, {"IsDeleted": False})
    contact_id = record.data.get("PersonContactId") if record.data.get("IsPersonAccount") else None
    contact = Record.objects.using(DB).filter(pk=contact_id or "", is_deleted=True).first()
    if contact is not None:
        contact.deleted_at = None
        _touch(contact, {"IsDeleted": False})


def merge_records(master: Record, duplicates: list[Record]) -> int:
    """Merge duplicates into ``master``: re-point children, then delete the duplicates.

    Returns how many child references were moved.
    """
    schema = get_schema(master.org)
    moved = 0
    with transaction.atomic(using=DB):
        for duplicate in duplicates:
            if duplicate.sobject != master.sobject or duplicate.pk == master.pk:
                raise ValueError("Merge needs other records of the same object.")
            moved += _repoint_children(schema, master, duplicate)
            duplicate.deleted_at = now()
            _touch(duplicate, {"IsDeleted": True, "MasterRecordId": master.pk})
    return moved


def _repoint_children(schema, master: Record, duplicate: Record) -> int:
    moved = 0
    for child in schema.objects.values():
        for fmeta in child.fields.values():
            if fmeta.type != "reference" or master.sobject not in fmeta.reference_to:
                continue
            if fmeta.name in ("MasterRecordId", "CreatedById", "LastModifiedById"):
                continue
            rows = where_field(
                Record.objects.using(DB).filter(org=master.org, sobject=child.name),
                fmeta.name,
                "exact",
                duplicate.pk,
            )
            for row in rows:
                _touch(row, {fmeta.name: master.pk})
                moved += 1
    return moved
