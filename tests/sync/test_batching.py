"""``sync.engine.batching``: the collector paced for a run is put back as it was; Bulk rows typed."""

from __future__ import annotations

import gc

import pytest

from sync.engine.batching import BATCH_GC_THRESHOLD, collecting_for_batches, typed_rows


@pytest.fixture
def default_collector():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_a_run_paces_the_collector_and_restores_it(default_collector):
    with collecting_for_batches():
        assert gc.get_threshold() == (BATCH_GC_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0  # the heap the run started with is left out
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_overlapping_runs_restore_it_when_the_last_ends(default_collector):
    with collecting_for_batches():
        with collecting_for_batches():
            pass
        assert gc.get_threshold()[0] == BATCH_GC_THRESHOLD
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_a_failed_run_restores_it_too(default_collector):
    with pytest.raises(RuntimeError), collecting_for_batches():
        raise RuntimeError("the org went away")
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_bulk_rows_are_typed_as_the_rest_api_types_them():
    fields = {
        "Name": {"type": "string"},
        "Phone": {"type": "phone"},
        "DoNotCall": {"type": "boolean"},
        "NumberOfEmployees": {"type": "int"},
        "AnnualRevenue": {"type": "currency"},
        "Share__c": {"type": "percent"},
    }
    rows = [
        {"Name": "Ada", "Phone": "0042", "DoNotCall": "true", "NumberOfEmployees": "42"},
        {"Name": "", "Phone": "", "DoNotCall": "false", "NumberOfEmployees": "1.5"},
        {"Name": "B", "AnnualRevenue": "1500000.5", "Share__c": "n/a", "Other": "7"},
        {"Name": "C", "AnnualRevenue": "", "Share__c": "12.5", "Other": ""},
    ]
    read = [dict(row) for row in rows]
    assert list(typed_rows(rows, fields)) == [
        {"Name": "Ada", "Phone": "0042", "DoNotCall": True, "NumberOfEmployees": 42},
        {"Name": None, "Phone": None, "DoNotCall": False, "NumberOfEmployees": 1.5},
        {"Name": "B", "AnnualRevenue": 1500000.5, "Share__c": "n/a", "Other": "7"},
        {"Name": "C", "AnnualRevenue": None, "Share__c": 12.5, "Other": None},
    ]
    assert rows == read  # typed copies: the rows read are left as they were
