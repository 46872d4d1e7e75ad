# ruff: noqa: F811 - fixtures imported from factories_errors
"""The Sync Errors pages through the front door: roles, table, filters, tabs, detail."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Task
from prospects.factories import ProspectFactory, UserFactory
from sync.models import ErrorCategory, SyncError

from .factories_errors import (  # noqa: F401
    SyncErrorFactory,
    admin_web,
    fresh_counts,
    marketer_web,
    web,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_counts")]
URL = reverse("sync:errors")


def test_anonymous_is_sent_to_login(web):
    assert web.get(URL).status_code == 302


def test_a_user_without_a_role_is_refused(web):
    web.force_login(UserFactory(username="nobody"))
    assert web.get(URL).status_code == 403


def test_the_table_shows_the_guides_columns_and_more(marketer_web):
    error = SyncErrorFactory()
    page = marketer_web.get(URL).content.decode()
    for text in (
        error.prospect_email,
        "data value too large",
        "STRING_TOO_LONG",
        "Data formatting",
        "Customer_Comment__c",
        "Lead · update",
        "First seen",
    ):
        assert text in page
    assert reverse("prospects:detail", args=[error.prospect_id]) in page
    assert reverse("sync:error_detail", args=[error.pk]) in page


def test_the_first_page_takes_a_pinned_number_of_queries(
    marketer_web, django_assert_max_num_queries
):
    SyncErrorFactory.create_batch(60)
    with django_assert_max_num_queries(8):
        response = marketer_web.get(URL)
    assert response.status_code == 200
    assert response.content.decode().count('data-error-id="') == 50


def test_resolved_errors_are_kept_and_shown_on_request(marketer_web):
    open_error = SyncErrorFactory(message="still open")
    SyncErrorFactory(message="long fixed", resolved_at=timezone.now(), resolution="clean_sync")
    page = marketer_web.get(URL).content.decode()
    assert "still open" in page and "long fixed" not in page
    page = marketer_web.get(URL, {"status": "resolved"}).content.decode()
    assert "long fixed" in page and "still open" not in page
    assert SyncError.objects.filter(pk=open_error.pk).exists()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "access"}, "access-one"),
        ({"error_code": "duplicates_detected"}, "process-one"),
        ({"field": "Phone"}, "process-one"),
        ({"sobject": "Contact"}, "access-one"),
        ({"last_seen_at_after": "2020-01-01", "last_seen_at_before": "2020-01-31"}, "old-one"),
    ],
)
def test_each_filter_narrows_the_table(marketer_web, params, expected):
    SyncErrorFactory(message="formatting-one")
    SyncErrorFactory(
        message="access-one",
        category=ErrorCategory.ACCESS,
        error_code="INSUFFICIENT_ACCESS_OR_READONLY",
        sobject="Contact",
    )
    SyncErrorFactory(
        message="process-one",
        category=ErrorCategory.PROCESS_ALIGNMENT,
        error_code="DUPLICATES_DETECTED",
        field="Phone",
    )
    SyncErrorFactory(message="old-one", first_seen_at=timezone.make_aware(dt.datetime(2020, 1, 15)))
    page = marketer_web.get(URL, params).content.decode()
    names = {"formatting-one", "access-one", "process-one", "old-one"}
    assert {n for n in names if n in page} == {expected}


def test_prospect_search_by_email_or_id(marketer_web):
    mine = SyncErrorFactory(prospect=ProspectFactory(email="zed@findme.example"), message="mine")
    SyncErrorFactory(message="other")
    page = marketer_web.get(URL, {"q": "findme"}).content.decode()
    assert "mine" in page and "other" not in page
    page = marketer_web.get(URL, {"q": str(mine.prospect_id)}).content.decode()
    assert "mine" in page and "other" not in page


def test_category_tabs_count_open_errors(marketer_web):
    SyncErrorFactory.create_batch(3)
    SyncErrorFactory(category=ErrorCategory.ACCESS, error_code="INVALID_FIELD")
    SyncErrorFactory(resolved_at=timezone.now())
    tabs = {t["value"]: t["count"] for t in marketer_web.get(URL).context["counts"]}
    assert tabs == {
        "": 4,
        "data_formatting": 3,
        "access": 1,
        "process_alignment": 0,
        "customization": 0,
    }


def test_marketers_get_no_links_to_field_rules_or_connector(marketer_web):
    SyncErrorFactory()
    assert "Sync admins only" not in marketer_web.get(URL).content.decode()


def test_sync_admins_get_links_to_field_rules_and_connector(admin_web):
    SyncErrorFactory()
    page = admin_web.get(URL).content.decode()
    assert "Sync admins only" in page
    assert reverse("sync:connector") in page


def test_the_detail_page_explains_the_root_cause(marketer_web):
    error = SyncErrorFactory()
    SyncErrorFactory.create_batch(2)  # same code and field: grouped
    page = marketer_web.get(reverse("sync:error_detail", args=[error.pk])).content.decode()
    assert "Customer_Comment__c allows 100 characters; this value has 143" in page
    assert "x" * 143 in page
    assert "<strong>3</strong> open errors" in page
    assert "raise its length to at least 143" in page


def test_resync_selected_with_nothing_selected_says_so(marketer_web):
    response = marketer_web.post(reverse("sync:errors_bulk_resync"), {"scope": "selected"})
    assert "Select the rows to resync first" in response.content.decode()
    assert not Task.objects.exists()


def test_the_detail_page_offers_to_resync_the_whole_group(marketer_web):
    error = SyncErrorFactory()
    SyncErrorFactory()
    page = marketer_web.get(reverse("sync:error_detail", args=[error.pk])).content.decode()
    assert "Resync all 2" in page
    assert "error_code=STRING_TOO_LONG&amp;field=Customer_Comment__c" in page


def test_a_marketer_sees_the_import_page(marketer_web):
    page = marketer_web.get(reverse("sync:errors_import")).content.decode()
    assert 'type="file"' in page and "prospect_id" in page


def test_a_stale_cached_count_never_hides_rows(marketer_web):
    SyncErrorFactory.create_batch(2)
    marketer_web.get(URL)  # caches "2 open"
    SyncErrorFactory.create_batch(3)
    page = marketer_web.get(URL).content.decode()
    assert page.count('data-error-id="') == 5
