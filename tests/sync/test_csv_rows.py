"""Bulk API result pages read as rows (``sync.salesforce.csv_rows``): line by line, never a
copy of the whole page, with the csv module's own rules for quoted values."""

import csv
import io
import tracemalloc

import pytest

from sync.salesforce import csv_rows

PAGES = [
    "Id,Name\n1,Ada\n2,Bob\n",
    "Id,Name\n1,Ada\n2,Bob",  # no final line break
    "Id,Name\r\n1,Ada\r\n2,Bob\r\n",  # CRLF
    'Id,Name\n1,"Ada\nLovelace"\n2,"x, ""y"""\n',  # a line break and quotes in a value
    'Id,Name\n1,"Ada\r\nL"\n',
    "Id,Name\n1,Ada\u2028Lovelace\n2,B\x85ob\x0cc\n",  # breaks str.splitlines would split at
    "Id,Name\n\n1,Ada\n\n",  # blank lines are skipped
    "Id,Name\n",
    "",
    "Id,Name\n1,\u00e9\u4e2d\U0001f600\n",
]


@pytest.mark.parametrize("page", PAGES)
def test_a_page_reads_as_the_csv_module_reads_it(page):
    expected = [row for row in csv.DictReader(io.StringIO(page, newline=""))]
    assert list(csv_rows(page)) == expected


def test_reading_a_page_holds_no_copy_of_it():
    """A 50,000-row page was first copied whole into an ``io.StringIO`` (four bytes a
    character): over 100 MB for a page the worker already held as text."""
    page = "Id,Name\n" + "".join(f"{i:018d},Prospect number {i}\n" for i in range(100_000))
    tracemalloc.start()
    try:
        rows = csv_rows(page)
        assert next(rows) == {"Id": "0" * 18, "Name": "Prospect number 0"}
        assert sum(1 for _ in rows) == 99_999
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(page) / 10, f"peak {peak:,} bytes reading a page of {len(page):,}"
