"""Lists and rules compile to PostgreSQL statements (ANY(array), upserts from SELECT, advisory
locks); on SQLite they are not supported yet, so these tests run on PostgreSQL only (CI runs
them there). See the README's note on automation and PostgreSQL."""

import pytest
from django.db import connection

PG_ONLY = {
    "test_lists.py",
    "test_rules.py",
    "test_views.py",
    "test_actions.py",
    "test_criteria_property.py",
}


def pytest_collection_modifyitems(config, items) -> None:
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="automation lists and rules need PostgreSQL (DATABASE_URL)")
    for item in items:
        if item.fspath.basename in PG_ONLY:
            item.add_marker(skip)
