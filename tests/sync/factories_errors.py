"""factory-boy factories for Sync Errors tests."""

import factory
import pytest
from django.core.cache import cache
from django.test import Client as DjangoClient
from django.utils import timezone
from factory.django import DjangoModelFactory

from prospects.factories import ProspectFactory
from sync.errors.records import CATEGORY_CACHE_KEY, COUNT_CACHE_KEY
from sync.models import ErrorCategory, SyncError
from tests.sync.factories import ConnectorFactory  # noqa: F401 - tests import it from here too


class SyncErrorFactory(DjangoModelFactory):
    class Meta:
        model = SyncError

    prospect = factory.SubFactory(ProspectFactory)
    prospect_email = factory.LazyAttribute(lambda e: e.prospect.email if e.prospect else "")
    operation = "update"
    sobject = "Lead"
    record_id = factory.Sequence(lambda n: f"00Q{n:015d}")
    error_code = "STRING_TOO_LONG"
    category = ErrorCategory.DATA_FORMATTING
    message = "Customer Comment: data value too large: ... (max length=100)"
    field = "Customer_Comment__c"
    fields = factory.LazyAttribute(lambda e: [e.field] if e.field else [])
    value_sent = "x" * 143
    constraint = "Customer_Comment__c allows 100 characters; this value has 143"
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyAttribute(lambda e: e.first_seen_at)


# -- fixtures (web clients for these pages, with names of their own) ----------------------------------------------------------


@pytest.fixture
def web():
    return DjangoClient()


@pytest.fixture
def marketer_web(web, marketer):
    web.force_login(marketer)
    return web


@pytest.fixture
def admin_web(web, sync_admin):
    web.force_login(sync_admin)
    return web


def api_used(sandbox_org) -> int:
    """Calls the org has counted today (``/limits``; the read itself counts one)."""
    limits = sandbox_org.admin().limits()["DailyApiRequests"]
    return limits["Max"] - limits["Remaining"]


@pytest.fixture(autouse=False)
def fresh_counts():
    """The badge and tab counts are cached a few seconds; start each test without them."""
    cache.delete_many([COUNT_CACHE_KEY, CATEGORY_CACHE_KEY])
    yield
    cache.delete_many([COUNT_CACHE_KEY, CATEGORY_CACHE_KEY])
