"""Routing: pair each pending prospect with the Salesforce record it syncs with (the README
draws it).

1. "Do not sync" prospects never go.
2. CRM id known → that record; a converted lead is followed to its contact, and a person contact
   to its person account (Salesforce lets nobody write a person contact directly).
3. No CRM id and "match by email" on → a visible lead, contact or person account with the
   email, chosen by the connector's precedence setting (a person account counts as a contact).
4. No match and the prospect is assigned to a user or a queue → a record of the configured type
   to create, owned by the queue or the user's Salesforce user (the connector user when unmapped).
5. Otherwise the prospect waits ("not synced: waiting for assignment"), which is not an error.

Every lookup of a batch — linked records by id, email matches, owners — goes out together, five
SOQL queries to a Composite call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from prospects.models import Prospect
from sync.engine import package
from sync.engine.users import OwnerMap, user_select
from sync.models import Connector, FieldRule
from sync.salesforce import QUERY_URL_BUDGET, Client, SalesforceError

# The field holding the email on each object (person accounts: Account.PersonEmail).
EMAIL_FIELD = {"Lead": "Email", "Contact": "Email", "Account": "PersonEmail"}
QUERY_VALUES = 300  # ids or emails per lookup query (the URL length also caps it)
# What urllib.parse.quote(..., safe="") leaves as it is; every other byte becomes "%XX".
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"


def _quoted_length(text: str) -> int:
    """``len(quote(text, safe=""))`` without building the string (a push quotes every email)."""
    raw = text.encode()
    return len(raw) + 2 * len(raw.translate(None, _UNRESERVED))


@dataclass
class Target:
    """A prospect and the Salesforce record it syncs with (``record`` is None for a create)."""

    prospect: Prospect
    sobject: str
    record: dict | None = None
    matched_by_email: bool = False


@dataclass
class Unreachable:
    """A linked record that is gone or hidden from the connector user."""

    prospect: Prospect
    sobject: str
    record_id: str
    error: SalesforceError


@dataclass
class Routed:
    """Where a batch's prospects go: records to write, and those that go nowhere (and why)."""

    targets: list[Target] = field(default_factory=list)
    waiting: list[Prospect] = field(default_factory=list)  # no match and nobody assigned
    skipped: list[Prospect] = field(default_factory=list)  # "Do not sync"
    unreachable: list[Unreachable] = field(default_factory=list)


class Router:
    """Reads what a batch needs from Salesforce and routes its prospects."""

    def __init__(self, connector: Connector, client: Client, rules: list[FieldRule]) -> None:
        self.connector = connector
        self.client = client
        self.rules = rules
        self.owners = OwnerMap(connector)

    def mapped_fields(self, sobject: str) -> list[str]:
        available = self.client.fields_by_name(sobject)
        names = {rule.target_field(sobject) for rule in self.rules} - {""}
        names |= {"Id", EMAIL_FIELD[sobject], "OwnerId", "LastModifiedDate", "SystemModstamp"}
        names |= package.read_fields(self.client, sobject)
        if sobject == "Lead":
            names |= {"IsConverted", "ConvertedContactId", "ConvertedAccountId"}
        if sobject == "Contact":
            names |= {"AccountId", "IsPersonAccount"}
        if sobject == "Account":
            names |= {"IsPersonAccount", "PersonContactId"}
        return sorted(n for n in names if n in available)

    def queries(self, sobject: str, where: str, values: Iterable[str]) -> list[str]:
        """SELECT the mapped fields of ``sobject`` WHERE ``where`` IN values, as few queries as
        the URL length allows (each travels in a Composite subrequest's URL)."""
        extra = " AND IsConverted = false" if sobject == "Lead" and where == "Email" else ""
        if sobject == "Account":
            extra = " AND IsPersonAccount = true"
        # A person contact is matched (and written) through its person account.
        if (
            sobject == "Contact"
            and where == "Email"
            and "IsPersonAccount" in self.client.fields_by_name("Contact")
        ):
            extra = " AND IsPersonAccount = false"
        if sobject == "User":
            select = user_select(self.client)
            active = "IsActive" in self.client.fields_by_name("User")
            extra = " AND IsActive = true" if active else ""
        elif where == EMAIL_FIELD.get(sobject):
            # Matching needs only these; the chosen records are read whole afterwards, so a big
            # push of new prospects does not make the org serialise records nobody uses.
            self.client.describe(sobject)  # an object the connector user lost: a clear error
            select = f"Id, {where}, LastModifiedDate"
        else:
            select = ", ".join(self.mapped_fields(sobject))
        head = f"SELECT {select} FROM {sobject} WHERE {where} IN ("
        soqls, chunk, size = [], [], 0
        for value in sorted(set(values)):
            quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
            cost = _quoted_length(quoted) + 6
            if chunk and (len(chunk) >= QUERY_VALUES or size + cost > QUERY_URL_BUDGET):
                soqls.append(head + ", ".join(chunk) + ")" + extra)
                chunk, size = [], 0
            chunk.append(quoted)
            size += cost
        if chunk:
            soqls.append(head + ", ".join(chunk) + ")" + extra)
        return soqls

    def fetch_many(self, wanted: list[tuple[str, str, Iterable[str]]]) -> list[list[dict]]:
        """Several lookups ``(sobject, where, values)`` in as few Composite calls as possible."""
        plans = [self.queries(sobject, where, values) for sobject, where, values in wanted]
        flat = self.client.query_many([soql for plan in plans for soql in plan])
        out, at = [], 0
        for plan in plans:
            out.append([record for rows in flat[at : at + len(plan)] for record in rows])
            at += len(plan)
        return out

    def fetch(self, sobject: str, where: str, values: Iterable[str]) -> list[dict]:
        return self.fetch_many([(sobject, where, values)])[0]

    def owner_id(self, prospect: Prospect) -> str | None:
        """The Salesforce owner: the assigned queue, else the assigned user's Salesforce user
        by id (linked once by email when not yet linked; see ``sync.engine.users``)."""
        if prospect.assigned_queue_id and prospect.assigned_queue.is_active:
            return prospect.assigned_queue.sf_id
        user = prospect.assigned_user
        if user is None:
            return None
        if not self.owners.knows(user):
            unknown = self.owners.unknown_portal_users([user])
            if unknown:
                rows = self.fetch("User", "Email", set(unknown.values()))
                self.owners.learn_by_email(unknown, rows)
        return self.owners.owner_for(user)

    # -- routing ---------------------------------------------------------------------------
    def route(self, prospects: Sequence[Prospect]) -> Routed:
        """Pair each prospect with its record, or a record to create; sort out the rest.

        Every lookup of the batch — linked records by id, email matches, owners — goes out
        together, five queries to a Composite call.
        """
        routed = Routed()
        linked: dict[str, dict[str, Prospect]] = {"Lead": {}, "Contact": {}, "Account": {}}
        unlinked: list[Prospect] = []
        for prospect in prospects:
            if prospect.do_not_sync:
                routed.skipped.append(prospect)
            elif prospect.crm_person_account and prospect.crm_account_id:
                linked["Account"][prospect.crm_account_id] = prospect
            elif prospect.crm_contact_id:
                linked["Contact"][prospect.crm_contact_id] = prospect
            elif prospect.crm_lead_id:
                linked["Lead"][prospect.crm_lead_id] = prospect
            else:
                unlinked.append(prospect)
        found = self.look_up(linked, unlinked)
        self.resolve_linked(linked, found, routed)
        matches: dict[str, list[tuple[str, dict]]] = defaultdict(list)
        for sobject in ("Contact", "Lead", "Account"):
            for record in found.get((sobject, EMAIL_FIELD[sobject]), []):
                email = (record.get(EMAIL_FIELD[sobject]) or "").lower()
                matches[email].append((sobject, record))
        self.match_or_create(unlinked, matches, routed)
        return routed

    def look_up(
        self, linked: dict[str, dict[str, Prospect]], unlinked: list[Prospect]
    ) -> dict[tuple[str, str], list[dict]]:
        """One round of queries for the batch: ``(sobject, field) -> records``."""
        wanted = [(sobject, "Id", by_id) for sobject, by_id in linked.items() if by_id]
        emails = {p.email.lower() for p in unlinked if p.email}
        if self.connector.match_by_email and emails:
            wanted += [("Contact", "Email", emails), ("Lead", "Email", emails)]
            if self.connector.person_accounts:
                wanted.append(("Account", "PersonEmail", emails))
        owners = self.owners.unknown_portal_users(
            p.assigned_user for p in unlinked if p.assigned_user_id and not p.assigned_queue_id
        )
        if owners:
            wanted.append(("User", "Email", set(owners.values())))
        found = dict(zip([(s, w) for s, w, _ in wanted], self.fetch_many(wanted), strict=True))
        if owners:
            self.owners.learn_by_email(owners, found[("User", "Email")])
        return found

    def resolve_linked(
        self,
        linked: dict[str, dict[str, Prospect]],
        found: dict[tuple[str, str], list[dict]],
        routed: Routed,
    ) -> None:
        """Linked prospects: their record, followed from a converted lead or a person contact."""
        converted: dict[str, Prospect] = {}
        persons: dict[str, Prospect] = {}
        for sobject, by_id in linked.items():
            records = {r["Id"]: r for r in found.get((sobject, "Id"), [])}
            for record_id, prospect in by_id.items():
                record = records.get(record_id)
                if record is None:
                    routed.unreachable.append(
                        Unreachable(
                            prospect,
                            sobject,
                            record_id,
                            SalesforceError(
                                "ENTITY_IS_DELETED",
                                f"The {sobject} {record_id} no longer exists or the connector "
                                "user cannot see it.",
                            ),
                        )
                    )
                elif record.get("IsConverted") and record.get("ConvertedContactId"):
                    converted[record["ConvertedContactId"]] = prospect
                elif sobject == "Contact" and record.get("IsPersonAccount"):
                    persons[record["AccountId"]] = prospect  # written through its account
                else:
                    routed.targets.append(Target(prospect, sobject, record))
        if converted:  # follow converted leads to their contact (or person account)
            contacts = {r["Id"]: r for r in self.fetch("Contact", "Id", converted)}
            for contact_id, prospect in converted.items():
                prospect.crm_contact_id = contact_id
                contact = contacts.get(contact_id)
                if contact and contact.get("IsPersonAccount"):
                    persons[contact["AccountId"]] = prospect
                elif contact:
                    routed.targets.append(Target(prospect, "Contact", contact))
        if persons:
            self.resolve_persons(persons, routed)

    def resolve_persons(self, persons: dict[str, Prospect], routed: Routed) -> None:
        accounts = {r["Id"]: r for r in self.fetch("Account", "Id", persons)}
        for account_id, prospect in persons.items():
            if account_id in accounts:
                prospect.crm_account_id = account_id
                routed.targets.append(Target(prospect, "Account", accounts[account_id]))
                continue
            error = SalesforceError(
                "INSUFFICIENT_ACCESS",
                f"The person account {account_id} is not visible to the connector user, or "
                "person account syncing is off.",
            )
            routed.unreachable.append(Unreachable(prospect, "Account", account_id, error))

    def match_or_create(
        self, prospects: list[Prospect], matches: dict[str, list[tuple[str, dict]]], routed: Routed
    ) -> None:
        chosen: dict[str, dict[str, list[Prospect]]] = defaultdict(lambda: defaultdict(list))
        for prospect in prospects:
            candidates = matches.get(prospect.email.lower(), [])
            if candidates:
                sobject, record = self.choose(candidates)
                chosen[sobject][record["Id"]].append(prospect)
            else:
                self.create_or_wait(prospect, routed)
        wanted = [(sobject, "Id", by_id) for sobject, by_id in chosen.items()]
        for (sobject, _, by_id), records in zip(wanted, self.fetch_many(wanted), strict=True):
            whole = {r["Id"]: r for r in records}
            for record_id, matched in by_id.items():
                for prospect in matched:
                    if record_id in whole:
                        target = Target(prospect, sobject, whole[record_id], matched_by_email=True)
                        routed.targets.append(target)
                    else:  # gone since the lookup a moment ago
                        self.create_or_wait(prospect, routed)

    def create_or_wait(self, prospect: Prospect, routed: Routed) -> None:
        if prospect.assigned_user_id or prospect.assigned_queue_id:
            routed.targets.append(Target(prospect, self.create_type()))
        else:
            routed.waiting.append(prospect)

    def choose(self, candidates: list[tuple[str, dict]]) -> tuple[str, dict]:
        precedence = self.connector.email_precedence
        if precedence == Connector.EmailPrecedence.MOST_RECENT:
            return max(candidates, key=lambda c: c[1].get("LastModifiedDate") or "")
        first = "Lead" if precedence == Connector.EmailPrecedence.LEAD_FIRST else "Contact"

        def kind(candidate: tuple[str, dict]) -> str:  # a person account is a contact here
            return "Contact" if candidate[0] == "Account" else candidate[0]

        ordered = sorted(
            candidates,
            key=lambda c: (kind(c) != first, c[1].get("LastModifiedDate") or ""),
        )
        # Within the preferred object, the most recently modified record.
        best = [c for c in ordered if kind(c) == kind(ordered[0])]
        return max(best, key=lambda c: c[1].get("LastModifiedDate") or "")

    def create_type(self) -> str:
        record_type = self.connector.new_record_type
        if record_type == Connector.RecordType.PERSON_ACCOUNT and self.connector.person_accounts:
            return "Account"
        return "Contact" if record_type == Connector.RecordType.CONTACT else "Lead"

    def person_record_type(self) -> str | None:
        """The active person-account record type on Account (looked up once per push)."""
        if not hasattr(self, "_person_record_type"):
            rows = self.client.query_all(
                "SELECT Id FROM RecordType WHERE SobjectType = 'Account' AND IsPersonType = true"
                " AND IsActive = true"
            )
            self._person_record_type = rows[0]["Id"] if rows else None
        return self._person_record_type
