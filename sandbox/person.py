"""Person accounts: an Account whose record type is a person type, with its person Contact.

An org has person accounts when Account has ``IsPersonAccount`` (``metadata.enable_person_accounts``).
Salesforce's rules, as the write path (``sandbox/records.py``) applies them:

1. An Account is a person account when its ``RecordTypeId`` is a person record type, or when it
   is created with ``LastName`` and no ``Name`` (the person record type is then filled in).
2. ``Name`` is computed from FirstName and LastName (not the Salutation); writing it fails, and
   so does writing a person field (``LastName``, ``Person*``, ``*__pc``) on a business account:
   ``INVALID_FIELD_FOR_INSERT_UPDATE`` "Account: bad field names on insert/update call: Name"
   [OBS: Salesforce Help KB 000386207; the ``__pc`` form in texei-sfdx-plugin issue #51].
3. Creating one creates its person Contact (``IsPersonAccount`` true, ``AccountId`` the
   account), whose id is ``Account.PersonContactId``; updating person fields on the account
   updates the contact; deleting (undeleting) the account deletes (restores) the contact.
4. The person Contact cannot be written or deleted directly: INSUFFICIENT_ACCESS_OR_READONLY
   "insufficient access rights on object id" [OBS: KB 005305352 for its RecordTypeId; the same
   answer for other fields and for delete is UNVERIFIED].
5. Moving an account between business and person record types is refused (Salesforce allows it
   under conditions the sandbox does not model): INVALID_FIELD_FOR_INSERT_UPDATE "Cannot specify
   any additional fields when marrying or separating a Person-Account" [OBS: Salesforce
   StackExchange capture; used here for every such change — UNVERIFIED beyond that case].
"""

from sandbox import ids
from sandbox.errors import ApiError
from sandbox.metadata import PERSON_FIELDS, SHARED_PERSON_FIELDS
from sandbox.models import Record
from sandbox.schema import ObjectMeta

DB = "sandbox"


def enabled(obj: ObjectMeta) -> bool:
    """Whether ``obj`` is Account in an org with person accounts."""
    return obj.name == "Account" and obj.field("IsPersonAccount") is not None


def contact_field(name: str) -> str | None:
    """The person Contact field an Account field mirrors (None for business-only fields)."""
    if name in PERSON_FIELDS:
        return PERSON_FIELDS[name]
    if name in SHARED_PERSON_FIELDS:
        return name
    if name.endswith("__pc"):
        return name.removesuffix("__pc") + "__c"
    return None


def is_person_field(name: str) -> bool:
    """A field only person accounts may write."""
    return name not in SHARED_PERSON_FIELDS and contact_field(name) is not None


def bad_field_names(names: list[str]) -> ApiError:
    return ApiError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Account: bad field names on insert/update call: {', '.join(names)}",
        400,
        names,
    )


def record_types(org_id: str) -> dict[str, bool]:
    """Account record type id → whether it is a person type."""
    rows = Record.objects.using(DB).filter(org_id=org_id, sobject="RecordType", is_deleted=False)
    return {
        record_id: bool(data.get("IsPersonType"))
        for record_id, data in rows.values_list("id", "data")
        if data.get("SobjectType") == "Account"
    }


def person_type_id(types: dict[str, bool], *, person: bool = True) -> str | None:
    """The (first) person record type's id, or with ``person=False`` the business one."""
    return next((record_id for record_id, kind in types.items() if kind == person), None)


def derive_name(merged: dict) -> None:
    """``Name`` as Salesforce computes it for a person (Lead, Contact, User, person Account):
    FirstName and LastName. The Salutation is its own field, not part of the Name."""
    parts = (merged.get("FirstName"), merged.get("LastName"))
    merged["Name"] = " ".join(p for p in parts if p) or None


def _check_sent(changes: dict, person: bool) -> None:
    if person and "Name" in changes:
        raise bad_field_names(["Name"])
    if not person:
        wrong = [name for name in changes if is_person_field(name)]
        if wrong:
            raise bad_field_names(wrong)


def prepare_create(changes: dict, merged: dict, types: dict[str, bool]) -> bool:
    """Settle a new Account's kind (steps 1–2 of the module docstring); True for a person."""
    chosen = changes.get("RecordTypeId")
    if chosen:
        person = types.get(chosen, False)
    else:
        person = "LastName" in changes and "Name" not in changes
        merged["RecordTypeId"] = person_type_id(types, person=person)
    _check_sent(changes, person)
    merged["IsPersonAccount"] = person
    if not person:
        return False
    if not merged.get("LastName"):
        raise ApiError(
            "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", 400, ["LastName"]
        )
    merged["PersonContactId"] = ids.new_id("003")
    derive_name(merged)
    return True


def prepare_update(current: dict, changes: dict, merged: dict, types: dict[str, bool]) -> bool:
    """Check an Account update against its kind; True for a person account."""
    person = bool(current.get("IsPersonAccount"))
    chosen = changes.get("RecordTypeId")
    if chosen and types.get(chosen, False) != person:
        raise ApiError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Cannot specify any additional fields when marrying or separating a Person-Account",
            400,
            [],
        )
    _check_sent(changes, person)
    if person:
        if "LastName" in changes and not changes["LastName"]:
            raise ApiError(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [LastName]",
                400,
                ["LastName"],
            )
        derive_name(merged)
    return person


def contact_values(account: dict, names: set[str] | None = None) -> dict:
    """The person Contact's values for the account's mirrored fields (all, or ``names``)."""
    out = {}
    for name in names if names is not None else account.keys():
        target = contact_field(name)
        if target:
            out[target] = account.get(name)
    return out


def guard_person_contact(record: Record) -> None:
    """Step 4: a person Contact is written through its Account only."""
    if record.sobject == "Contact" and record.data.get("IsPersonAccount"):
        raise ApiError(
            "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", 400, []
        )
