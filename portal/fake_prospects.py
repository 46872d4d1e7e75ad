"""Many realistic prospects fast, for scale tests and benchmarks (``manage.py makeprospects``).

``ProspectFactory`` asks Faker for every field of every row (~0.5 ms a prospect): a million takes
most of an hour. Here Faker fills small pools once, rows are drawn from them with a seeded
``random.Random``, and PostgreSQL receives them through one ``COPY`` (elsewhere batched ``INSERT``s
in chunks): a million prospects in about a minute. Every row is a complete prospect as a
marketer would have it (name, company, address, score, grade...), with a unique email under a
domain of its own so a run can find its prospects again.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from prospects.factories import INDUSTRIES, SOURCES
from prospects.models import Campaign, CrmQueue, Grade, Prospect, SyncQueueItem, SyncReason
from prospects.sync_requests import request_sync_many

POOL = 400  # values of each kind Faker makes; rows combine them (400^3 names x companies)
CHUNK = 10_000  # rows per executemany (SQLite); five chunks per request_sync_many
STATES = ["California", "New York", "Texas", "Illinois", "Washington", "Massachusetts", "Oregon"]
GRADES = [g.value for g in Grade] + [""]
# The columns a generated row fills; every other column takes its model default.
FILLED = (
    "salutation",
    "first_name",
    "last_name",
    "email",
    "company",
    "website",
    "job_title",
    "department",
    "industry",
    "phone",
    "address_one",
    "city",
    "state",
    "zip",
    "country",
    "source",
    "score",
    "grade",
    "employees",
    "annual_revenue",
    "assigned_user_id",
    "assigned_queue_id",
    "campaign_id",
    "created_at",
    "updated_at",
    "last_activity_at",
    "sync_key",
)


@dataclass
class Pools:
    """Faker's values, made once per run."""

    first: list[str]
    last: list[str]
    companies: list[tuple[str, str]]  # (name, its domain)
    jobs: list[str]
    streets: list[str]
    cities: list[str]
    zips: list[str]

    @classmethod
    def make(cls, seed: int) -> Pools:
        fake = Faker()
        fake.seed_instance(seed)
        companies = []
        for _ in range(POOL):
            name = fake.company()
            domain = "".join(c for c in name.lower() if c.isalnum())[:20] or "example"
            companies.append((name, domain))
        return cls(
            first=[fake.first_name() for _ in range(POOL)],
            last=[fake.last_name() for _ in range(POOL)],
            companies=companies,
            jobs=[fake.job()[:128] for _ in range(POOL)],
            streets=[fake.street_address() for _ in range(POOL)],
            cities=[fake.city()[:40] for _ in range(POOL)],
            zips=[fake.postcode() for _ in range(POOL)],
        )


def rows(
    n: int,
    *,
    domain: str,
    owner_ids: list[int | None],
    queue_id: int | None,
    campaign_ids: list[int | None],
    seed: int,
) -> Iterator[tuple]:
    """``n`` rows of the ``FILLED`` columns; emails ``<first>.<last>.<i>@<domain>``."""
    pools = Pools.make(seed)
    rng = random.Random(seed)
    now = timezone.now()
    for i in range(n):
        first, last = rng.choice(pools.first), rng.choice(pools.last)
        company, company_domain = rng.choice(pools.companies)
        created = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
        active = created + dt.timedelta(seconds=rng.randrange(30 * 86400))
        yield (
            rng.choice(("", "Mr.", "Ms.", "Dr.")),
            first,
            last,
            f"{first}.{last}.{i}@{domain}".lower(),
            company,
            f"https://www.{company_domain}.example",
            rng.choice(pools.jobs),
            rng.choice(("Marketing", "Sales", "IT", "Finance", "Operations")),
            rng.choice(INDUSTRIES),
            f"+1 ({rng.randrange(200, 1000)}) {rng.randrange(200, 1000)}-{rng.randrange(10000):04}",
            rng.choice(pools.streets),
            rng.choice(pools.cities),
            rng.choice(STATES),
            rng.choice(pools.zips),
            "United States",
            rng.choice(SOURCES),
            rng.choice((0, 5, 15, 40, 75, 120, 260)),
            rng.choice(GRADES),
            rng.randrange(1, 20_000),
            Decimal(rng.randrange(10_000_000, 10_000_000_000)) / 100,
            rng.choice(owner_ids),
            queue_id,
            rng.choice(campaign_ids),
            created,
            created,
            active if active < now else None,
            uuid.uuid4(),  # never from the seed: a second run must not repeat sync keys
        )


def make_prospects(
    n: int,
    *,
    owners: list | None = None,
    queue: CrmQueue | None = None,
    campaigns: list[Campaign] | None = None,
    domain: str | None = None,
    seed: int = 2026,
    sync: bool = False,
) -> list[int]:
    """Create ``n`` prospects; return their ids (in creation order).

    ``owners`` (users; ``None`` among them leaves some unassigned) and ``queue`` decide who they
    are assigned to — a prospect syncs only when assigned or matched. ``sync`` asks for their
    sync (``request_sync_many``, a chunk at a time), as an import would.
    """
    domain = domain or f"scale-{uuid.uuid4().hex[:8]}.example"
    owner_ids = [u.pk if u is not None else None for u in owners] if owners else [None]
    campaign_ids = [c.pk if c is not None else None for c in campaigns] if campaigns else [None]
    generated = rows(
        n,
        domain=domain,
        owner_ids=owner_ids,
        queue_id=queue.pk if queue else None,
        campaign_ids=campaign_ids,
        seed=seed,
    )
    with transaction.atomic():
        start = Prospect.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        if connection.vendor == "postgresql":
            _copy(generated)
        else:
            _insert(generated)
        ids = list(
            Prospect.objects.filter(pk__gt=start, email__endswith=f"@{domain}")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    if sync:
        for at in range(0, len(ids), CHUNK * 5):
            with transaction.atomic():
                request_sync_many(ids[at : at + CHUNK * 5], SyncReason.INITIAL_SYNC)
    _analyze()
    return ids


def _analyze() -> None:
    """Statistics for the rows just loaded, as a bulk loader owes the planner: autovacuum gets
    to a table only after a while (and not at all where it is switched off, as on some test
    machines). Without them PostgreSQL took ``crm_contact_id = ''`` for a rare value on a
    million fresh prospects and read that whole index for every 2,000-row chunk of a pull."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Prospect._meta.db_table}")
        cursor.execute(f"ANALYZE {SyncQueueItem._meta.db_table}")


def _fixed_columns() -> dict[str, object]:
    """Every column a generated row does not fill, with its model default as the database
    takes it (``{}`` for the JSON columns, ``False``, ``0``...)."""
    fixed = {}
    for f in Prospect._meta.concrete_fields:
        if f.primary_key or f.attname in FILLED:
            continue
        default = f.get_default() if f.has_default() else (None if f.null else "")
        fixed[f.column] = f.get_db_prep_save(default, connection)
    return fixed


def _copy(generated: Iterator[tuple]) -> None:
    names, tail = _columns()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {_table()} ({names}) FROM STDIN") as copy,
    ):
        for row in generated:
            copy.write_row(row + tail)


def _insert(generated: Iterator[tuple]) -> None:
    """SQLite: plain INSERTs of the same columns, values prepared as Django prepares them."""
    names, tail = _columns()
    fields = [Prospect._meta.get_field(name) for name in FILLED]
    marks = ", ".join(["%s"] * (len(fields) + len(tail)))
    sql = f"INSERT INTO {_table()} ({names}) VALUES ({marks})"
    batch: list[list] = []
    with connection.cursor() as cursor:
        for row in generated:
            batch.append(
                [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                + list(tail)
            )
            if len(batch) == CHUNK:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _table() -> str:
    return connection.ops.quote_name(Prospect._meta.db_table)


def _columns() -> tuple[str, tuple]:
    """The quoted column list (``FILLED`` then the rest) and the rest's values."""
    fixed = _fixed_columns()
    names = [Prospect._meta.get_field(a).column for a in FILLED] + list(fixed)
    return ", ".join(connection.ops.quote_name(c) for c in names), tuple(fixed.values())
