"""Org administration as plain functions: the admin, ``manage.py sandboxctl`` and the test
fixture's control endpoint all call these (revoke a permission, hide records, age sessions …).
"""

from datetime import timedelta

from sandbox import auth, demo, faults, ids, lifecycle, limits
from sandbox.errors import ApiError
from sandbox.models import (
    FaultConfig,
    Field,
    FieldPermission,
    ObjectPermission,
    Org,
    OrgUser,
    Profile,
    Record,
    SObject,
    bump_meta_version,
)
from sandbox.records import refresh_statistics
from sandbox.values import format_datetime, now

DB = "sandbox"
FIELD_PROPS = {
    "length",
    "label",
    "nillable",
    "restricted_picklist",
    "picklist_values",
    "createable",
    "updateable",
    "unique",
    "external_id",
}
ORG_PROPS = {"daily_api_limit", "session_idle_seconds", "state_country_picklists"}


def _org(name: str = demo.ORG_NAME) -> Org:
    org = Org.objects.using(DB).filter(name=name).first()
    if org is None:
        raise ApiError("NOT_FOUND", f"No org named {name}", 404, None)
    return org


def _profile(org: Org, name: str) -> Profile:
    return Profile.objects.using(DB).get(org=org, name=name)


def _sobject(org: Org, name: str) -> SObject:
    return SObject.objects.using(DB).get(org=org, name=name)


def reset() -> dict:
    """Drop and reload the demo org; forget API usage."""
    org = demo.load_demo_org(reset=True)
    limits.reset(org.pk)
    return {"org": org.pk}


def set_field_permission(
    *, profile: str, sobject: str, field: str, readable: bool = True, editable: bool = True
) -> dict:
    org = _org()
    target = Field.objects.using(DB).get(sobject=_sobject(org, sobject), name=field)
    perm, _ = FieldPermission.objects.using(DB).get_or_create(
        profile=_profile(org, profile), field=target
    )
    perm.readable, perm.editable = readable, editable
    perm.save(using=DB)
    return {"ok": True}


def set_object_permission(*, profile: str, sobject: str, **flags: bool) -> dict:
    org = _org()
    perm, _ = ObjectPermission.objects.using(DB).get_or_create(
        profile=_profile(org, profile), sobject=_sobject(org, sobject)
    )
    for key in ("can_read", "can_create", "can_edit", "can_delete"):
        if key in flags:
            setattr(perm, key, bool(flags[key]))
    perm.save(using=DB)
    return {"ok": True}


def set_sharing(*, sobject: str, model: str) -> dict:
    target = _sobject(_org(), sobject)
    target.sharing_model = model
    target.save(using=DB)
    return {"ok": True}


def set_field(*, sobject: str, field: str, **props) -> dict:
    target = Field.objects.using(DB).get(sobject=_sobject(_org(), sobject), name=field)
    for key, value in props.items():
        if key not in FIELD_PROPS:
            raise ApiError("INVALID_INPUT", f"Unknown field property {key}", 400, None)
        setattr(target, key, value)
    target.save(using=DB)
    return {"ok": True}


def set_org(**props) -> dict:
    org = _org()
    for key, value in props.items():
        if key not in ORG_PROPS:
            raise ApiError("INVALID_INPUT", f"Unknown org property {key}", 400, None)
        setattr(org, key, value)
    org.save(using=DB)
    bump_meta_version(org.pk)
    return {"ok": True}


def revoke_sessions(*, username: str) -> dict:
    user = OrgUser.objects.using(DB).get(username=username)
    return {"revoked": auth.revoke_sessions(user.pk)}


def age_sessions(*, username: str, seconds: int) -> dict:
    user = OrgUser.objects.using(DB).get(username=username)
    return {"aged": auth.expire_sessions(user.pk, seconds)}


def reset_api_usage() -> dict:
    limits.reset(_org().pk)
    return {"ok": True}


def seed_leads(*, count: int, prefix: str = "seed") -> dict:
    """Insert ``count`` plain leads in bulk (benchmarks: a 100,000-row query)."""
    org = _org()
    owner = OrgUser.objects.using(DB).get(org=org, username=demo.CONNECTOR_USERNAME).pk
    stamp = now()
    text = format_datetime(stamp)
    for start in range(0, count, 5000):
        rows = []
        for index in range(start, min(start + 5000, count)):
            record_id = ids.new_id("00Q")
            email = f"{prefix}{index}@bench.example"
            rows.append(
                Record(
                    pk=record_id,
                    org=org,
                    sobject="Lead",
                    owner_id=owner,
                    email=email,
                    ext_id=f"{prefix}-{index}",
                    system_modstamp=stamp,
                    data={
                        "Id": record_id,
                        "IsDeleted": False,
                        "CreatedDate": text,
                        "CreatedById": owner,
                        "LastModifiedDate": text,
                        "LastModifiedById": owner,
                        "SystemModstamp": text,
                        "OwnerId": owner,
                        "LastName": f"Seed {index}",
                        "Name": f"Seed {index}",
                        "Company": "Bench Co",
                        "Email": email,
                        "Status": "Open - Not Contacted",
                        "IsConverted": False,
                        "pi__Pardot_Prospect_Id__c": f"{prefix}-{index}",
                    },
                )
            )
        Record.objects.using(DB).bulk_create(rows)
    refresh_statistics()
    return {"created": count}


def seed_campaign_members(*, campaign_id: str, lead_ids: list[str], status: str = "Sent") -> dict:
    """Make these leads members of a campaign in bulk (benchmarks: a 100,000-member pull)."""
    org = _org()
    stamp = now()
    text = format_datetime(stamp)
    admin = OrgUser.objects.using(DB).get(org=org, username=demo.ADMIN_USERNAME).pk
    for start in range(0, len(lead_ids), 5000):
        rows = []
        for lead_id in lead_ids[start : start + 5000]:
            record_id = ids.new_id("00v")
            rows.append(
                Record(
                    pk=record_id,
                    org=org,
                    sobject="CampaignMember",
                    system_modstamp=stamp,
                    data={
                        "Id": record_id,
                        "IsDeleted": False,
                        "CreatedDate": text,
                        "CreatedById": admin,
                        "LastModifiedDate": text,
                        "LastModifiedById": admin,
                        "SystemModstamp": text,
                        "CampaignId": campaign_id,
                        "LeadId": lead_id,
                        "ContactId": None,
                        "Status": status,
                        "HasResponded": False,
                        "FirstRespondedDate": None,
                    },
                )
            )
        Record.objects.using(DB).bulk_create(rows)
    refresh_statistics()
    return {"created": len(lead_ids)}


def _seed_record(org: Org, sobject: str, prefix: str, owner: str, stamp, data: dict) -> Record:
    text = format_datetime(stamp)
    record_id = ids.new_id(prefix)
    return Record(
        pk=record_id,
        org=org,
        sobject=sobject,
        owner_id=owner if sobject != "OpportunityContactRole" else "",
        email=str(data.get("Email") or "").lower(),
        system_modstamp=stamp,
        data={
            "Id": record_id,
            "IsDeleted": False,
            "CreatedDate": text,
            "CreatedById": owner,
            "LastModifiedDate": text,
            "LastModifiedById": owner,
            "SystemModstamp": text,
            **({} if sobject == "OpportunityContactRole" else {"OwnerId": owner}),
            **data,
        },
    )


def seed_opportunities(*, count: int, roles: int = 2, prefix: str = "seed") -> dict:
    """Benchmarks: ``count`` contacts and ``count`` opportunities, each opportunity with
    ``roles`` contact roles (contact i on opportunities i, i+1, …), in bulk; returns the
    contact ids in order. Stages cycle: one in five won, one in ten lost, the rest open."""
    org = _org()
    owner = OrgUser.objects.using(DB).get(org=org, username=demo.CONNECTOR_USERNAME).pk
    stamp = now()
    stages = ["Prospecting"] * 7 + ["Closed Won"] * 2 + ["Closed Lost"]
    contacts: list[str] = []
    for start in range(0, count, 5000):
        rows = [
            _seed_record(
                org,
                "Contact",
                "003",
                owner,
                stamp,
                {
                    "LastName": f"Seed {i}",
                    "Name": f"Seed {i}",
                    "Email": f"{prefix}{i}@opps.bench.example",
                },
            )
            for i in range(start, min(start + 5000, count))
        ]
        Record.objects.using(DB).bulk_create(rows)
        contacts += [r.pk for r in rows]
    for start in range(0, count, 5000):
        opps = []
        links = []
        for i in range(start, min(start + 5000, count)):
            stage = stages[i % len(stages)]
            opps.append(
                _seed_record(
                    org,
                    "Opportunity",
                    "006",
                    owner,
                    stamp,
                    {
                        "Name": f"{prefix} deal {i}",
                        "StageName": stage,
                        "Amount": (i % 500 + 1) * 1000,
                        "CloseDate": stamp.date().isoformat(),
                        "Probability": 10,
                        "Type": "New Business",
                        "IsClosed": stage.startswith("Closed"),
                        "IsWon": stage == "Closed Won",
                    },
                )
            )
            for seat in range(roles):
                links.append((opps[-1].pk, contacts[(i + seat) % count], seat))
        Record.objects.using(DB).bulk_create(opps)
        Record.objects.using(DB).bulk_create(
            [
                _seed_record(
                    org,
                    "OpportunityContactRole",
                    "00K",
                    owner,
                    stamp,
                    {
                        "OpportunityId": opp,
                        "ContactId": contact,
                        "Role": "Decision Maker" if seat == 0 else "Evaluator",
                        "IsPrimary": seat == 0,
                    },
                )
                for opp, contact, seat in links
            ]
        )
    refresh_statistics()
    return {"contacts": contacts}


FAULT_PROPS = {
    "seed",
    "latency_ms",
    "error_rate",
    "error_status",
    "lock_rate",
    "drop_rate",
    "drop_after_rate",
}


def set_faults(**props) -> dict:
    """Turn faults on (any of FAULT_PROPS); unspecified ones keep their values."""
    config, _ = FaultConfig.objects.using(DB).get_or_create(org=_org())
    for key, value in props.items():
        if key not in FAULT_PROPS:
            raise ApiError("INVALID_INPUT", f"Unknown fault property {key}", 400, None)
        setattr(config, key, value)
    config.save(using=DB)
    faults.forget(config.org_id)
    return {"ok": True}


def clear_faults() -> dict:
    """Turn every fault off."""
    org = _org()
    FaultConfig.objects.using(DB).filter(org=org).delete()
    faults.forget(org.pk)
    return {"ok": True}


def start_outage(*, seconds: float) -> dict:
    """Every API call fails (503 SERVER_UNAVAILABLE) for the next ``seconds``."""
    config, _ = FaultConfig.objects.using(DB).get_or_create(org=_org())
    config.outage_until = now() + timedelta(seconds=seconds)
    config.save(using=DB)
    faults.forget(config.org_id)
    return {"until": format_datetime(config.outage_until)}


def revoke_object(*, sobject: str, profile: str = "Leadbridge Connector") -> dict:
    """Take an object away from the connector (as an admin would)."""
    return set_object_permission(
        profile=profile,
        sobject=sobject,
        can_read=False,
        can_create=False,
        can_edit=False,
        can_delete=False,
    )


def restore_object(*, sobject: str, profile: str = "Leadbridge Connector") -> dict:
    return set_object_permission(
        profile=profile,
        sobject=sobject,
        can_read=True,
        can_create=True,
        can_edit=True,
        can_delete=sobject != "Account",
    )


def revoke_field(
    *, sobject: str, field: str, profile: str = "Leadbridge Connector", readable: bool = False
) -> dict:
    """Hide a field (or with ``readable=true`` make it read-only) for the connector."""
    return set_field_permission(
        profile=profile, sobject=sobject, field=field, readable=readable, editable=False
    )


def restore_field(*, sobject: str, field: str, profile: str = "Leadbridge Connector") -> dict:
    return set_field_permission(profile=profile, sobject=sobject, field=field)


ACTIONS = {
    "set_faults": set_faults,
    "clear_faults": clear_faults,
    "start_outage": start_outage,
    "revoke_object": revoke_object,
    "restore_object": restore_object,
    "revoke_field": revoke_field,
    "restore_field": restore_field,
    "seed_leads": seed_leads,
    "seed_campaign_members": seed_campaign_members,
    "seed_opportunities": seed_opportunities,
    "reset": reset,
    "set_field_permission": set_field_permission,
    "set_object_permission": set_object_permission,
    "set_sharing": set_sharing,
    "set_field": set_field,
    "set_org": set_org,
    "revoke_sessions": revoke_sessions,
    "age_sessions": age_sessions,
    "reset_api_usage": reset_api_usage,
}


def run(action: str, params: dict) -> dict:
    """Run one named action with keyword parameters."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise ApiError("INVALID_INPUT", f"Unknown action {action}", 400, None)
    try:
        return handler(**params)
    except (TypeError, ValueError, LookupError) as exc:
        raise ApiError("INVALID_INPUT", str(exc), 400, None) from exc


def _record(record_id: str) -> Record:
    return Record.objects.using(DB).get(pk=record_id)


def convert_lead(*, lead_id: str, create_opportunity: bool = False) -> dict:
    """Convert a lead (Account + Contact created, IsConverted and Converted*Id set), with an
    Opportunity for the account when asked."""
    return lifecycle.convert_lead(_record(lead_id), create_opportunity=bool(create_opportunity))


def undelete(*, record_id: str) -> dict:
    lifecycle.undelete_record(_record(record_id))
    return {"ok": True}


def merge(*, master_id: str, duplicate_ids: list[str]) -> dict:
    moved = lifecycle.merge_records(_record(master_id), [_record(i) for i in duplicate_ids])
    return {"moved": moved}


ACTIONS.update({"convert_lead": convert_lead, "undelete": undelete, "merge": merge})
