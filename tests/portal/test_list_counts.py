"""Each table page counts its rows once.

A view that set ``paginate_by`` beside django-tables2's own pagination paginated twice, and so
counted twice: on a million prospects the count is most of the list's time. The table alone
paginates (``table_pagination``)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

COUNT = re.compile(r'SELECT COUNT\(\*\) AS "__count" FROM "(\w+)"')


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("prospects:list", "Marketer"),
        ("automation:lists", "Marketer"),
        ("automation:rules", "Marketer"),
        ("operations:recycle_bin", "Marketer"),
        ("intake:imports", "Marketer"),
        ("intake:form_list", "Marketer"),
        ("intake:handler_list", "Marketer"),
        ("intake:page_list", "Marketer"),
        ("crm:accounts", "Marketer"),
        ("crm:campaigns", "Marketer"),
        ("crm:users", "Sync admin"),
    ],
)
def test_a_table_page_counts_its_rows_once(client, name, role):
    client.force_login(user_with_role(f"counter-{role}", role))
    url = reverse(name)
    client.get(url)  # caches warmed
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    counted = [COUNT.search(q["sql"]).group(1) for q in queries if COUNT.search(q["sql"])]
    assert counted, f"{url} counted nothing"
    assert len(counted) == len(set(counted)), f"{url} counted a table twice: {counted}"
