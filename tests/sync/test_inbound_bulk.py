"""Inbound at volume: Bulk API 2.0 reads, chunked writes, safe watermarks, concurrent edits."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect
from sync.engine import inbound
from sync.engine.inbound import Puller, pull_changes
from sync.engine.outbound import push_prospects
from sync.models import FieldRule, SyncCursor

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(connector, unique_email):
    """Three prospects pushed to new Leads; Title is Salesforce's; the pull starts just before."""
    owner = UserFactory(username="alice", email="alice@acme.example")
    FieldRule.objects.filter(connector=connector, prospect_field="job_title").update(
        behaviour=FieldRule.Behaviour.SALESFORCE
    )
    made = [ProspectFactory(email=unique_email(), assigned_user=owner) for _ in range(3)]
    push_prospects(connector=connector, prospect_ids=[p.pk for p in made])
    for sobject in ("Lead", "Contact"):
        SyncCursor.objects.update_or_create(
            connector=connector,
            sobject=sobject,
            defaults={"watermark": timezone.now() - dt.timedelta(seconds=5)},
        )
    return list(Prospect.objects.filter(pk__in=[p.pk for p in made]).order_by("pk"))


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of one record, so a handful of records spans several chunks."""
    monkeypatch.setattr(inbound, "CHUNK", 1)


def retitle(sf, prospects, title: str) -> None:
    for prospect in prospects:
        sf.Lead.update(prospect.crm_lead_id, {"Title": f"{title} {prospect.pk}"})
        time.sleep(0.01)  # distinct SystemModstamps, oldest first


def titles(prospects) -> list[str]:
    return [Prospect.objects.get(pk=p.pk).job_title for p in prospects]


def test_many_changes_are_read_with_a_bulk_query(connector, sf, linked, monkeypatch):
    monkeypatch.setattr(inbound, "BULK_ABOVE", 2)
    retitle(sf, linked, "Bulk")
    report = pull_changes(connector=connector)
    assert report.bulk_jobs == 1
    assert titles(linked) == [f"Bulk {p.pk}" for p in linked]


def test_few_changes_are_read_with_soql_paging(connector, sf, linked):
    retitle(sf, linked, "Paged")
    report = pull_changes(connector=connector)
    assert report.bulk_jobs == 0
    assert titles(linked) == [f"Paged {p.pk}" for p in linked]


def test_a_record_read_through_bulk_matches_the_same_record_read_through_soql(
    connector, sf, linked, monkeypatch
):
    """Bulk's CSV text typed as the REST API's JSON: a number, a boolean and a blank read
    through Bulk are what the SOQL read already applied, so the second read writes nothing."""
    taken = ["annual_revenue", "employees", "do_not_call", "fax"]
    FieldRule.objects.filter(connector=connector, prospect_field__in=taken).update(
        behaviour=FieldRule.Behaviour.SALESFORCE, salesforce_blanks_overwrite=True
    )
    prospect = linked[0]
    sf.Lead.update(
        prospect.crm_lead_id,
        {"AnnualRevenue": 1500000.5, "NumberOfEmployees": 42, "DoNotCall": True, "Fax": None},
    )
    pull_changes(connector=connector)
    prospect.refresh_from_db()
    read_by_soql = [getattr(prospect, name) for name in taken]
    stamps = prospect.updated_at, prospect.crm_modified_at
    assert read_by_soql == [1500000.5, 42, True, ""]
    monkeypatch.setattr(inbound, "BULK_ABOVE", 0)
    SyncCursor.objects.update(watermark=timezone.now() - dt.timedelta(seconds=30))
    assert pull_changes(connector=connector).bulk_jobs == 1
    prospect.refresh_from_db()
    assert [getattr(prospect, name) for name in taken] == read_by_soql
    # Nothing differed, so nothing was written: not a field, not the record's stamp.
    assert (prospect.updated_at, prospect.crm_modified_at) == stamps


def test_a_pull_that_dies_part_way_through_soql_pages_resumes_after_the_applied_chunk(
    connector, sf, linked, small_chunks, monkeypatch
):
    retitle(sf, linked, "Resumed")
    before = SyncCursor.objects.get(connector=connector, sobject="Lead").watermark
    seen = fail_on_chunk(monkeypatch, 2)
    with pytest.raises(RuntimeError):
        pull_changes(connector=connector)
    # Pages come oldest first: the watermark moved to the applied record, and the next pull
    # (from the watermark less the overlap) reads the record that was not applied again.
    applied, failed = (inbound.parse_sf_datetime(c[0]["SystemModstamp"]) for c in seen[:2])
    watermark = SyncCursor.objects.get(connector=connector, sobject="Lead").watermark
    assert watermark == max(before, applied)
    assert failed > watermark - inbound.OVERLAP
    monkeypatch.undo()
    pull_changes(connector=connector)
    assert titles(linked) == [f"Resumed {p.pk}" for p in linked]


def test_a_pull_that_dies_part_way_through_a_bulk_job_keeps_its_watermark(
    connector, sf, linked, small_chunks, monkeypatch
):
    monkeypatch.setattr(inbound, "BULK_ABOVE", 0)
    retitle(sf, linked, "Again")
    before = SyncCursor.objects.get(connector=connector, sobject="Lead").watermark
    fail_on_chunk(monkeypatch, 2)
    with pytest.raises(RuntimeError):
        pull_changes(connector=connector)
    # Bulk rows come in no order: nothing may be skipped, so the watermark stays.
    assert SyncCursor.objects.get(connector=connector, sobject="Lead").watermark == before
    monkeypatch.setattr(Puller, "apply_chunk", ORIGINAL_APPLY)
    pull_changes(connector=connector)
    assert titles(linked) == [f"Again {p.pk}" for p in linked]


ORIGINAL_APPLY = Puller.apply_chunk


def fail_on_chunk(monkeypatch, number: int) -> list[list[dict]]:
    """The worker dies (an exception) when it reaches chunk ``number``; returns the chunks."""
    seen: list[list[dict]] = []

    def apply_chunk(self, sobject, records):
        seen.append(records)
        if len(seen) == number:
            raise RuntimeError("worker died")
        return ORIGINAL_APPLY(self, sobject, records)

    monkeypatch.setattr(Puller, "apply_chunk", apply_chunk)
    return seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite locks the whole database, not rows"
)
def test_an_edit_made_while_a_chunk_is_written_waits_for_it_and_is_kept(
    connector, sf, linked, monkeypatch
):
    prospect = linked[0]
    sf.Lead.update(prospect.crm_lead_id, {"Title": "VP Sales"})
    original = Puller.update_from
    editor = threading.Thread(
        target=lambda: (
            Prospect.objects.filter(pk=prospect.pk).update(city="Paris"),
            connection.close(),
        )
    )

    def update_from(self, target, sobject, record, writes):
        if target.pk == prospect.pk and not editor.is_alive():
            editor.start()  # a marketer saves the city while the chunk's rows are locked
            editor.join(timeout=0.5)
            assert editor.is_alive(), "the edit should wait for the chunk to commit"
        return original(self, target, sobject, record, writes)

    monkeypatch.setattr(Puller, "update_from", update_from)
    pull_changes(connector=connector)
    editor.join(timeout=10)
    prospect.refresh_from_db()
    assert (prospect.job_title, prospect.city) == ("VP Sales", "Paris")
