"""Property: every operation of the OpenAPI schema, fed what schemathesis generates from the
schema (valid and invalid), answers without a 500 and as the schema says (status codes,
content types, bodies, headers). Runs in-process against the WSGI app, in the test's
transaction; the number of examples is bounded so it takes well under a minute."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from intake.models import Import
from prospects.factories import CampaignFactory, ProspectFactory
from prospects.models import CustomField
from tests.api.conftest import key_client
from tests.crm.factories import MembershipFactory, SalesforceCampaignFactory
from tests.sync.factories_errors import SyncErrorFactory

pytestmark = pytest.mark.django_db
SPEC = SchemaGenerator().get_schema(request=None, public=True)
APP = get_wsgi_application()
schema = schemathesis.openapi.from_dict(SPEC)
schema.app = APP
schema.config.update(base_url="http://localhost")
EXAMPLES = 20  # per operation


@pytest.fixture
def world(marketer) -> dict:
    """A key, and a few rows for ids to hit: prospects with errors, a campaign, a field."""
    CustomField.objects.create(
        api_name="region", label="Region", type="dropdown", choices=["East", "West"]
    )
    campaign = CampaignFactory()
    salesforce_campaigns = [SalesforceCampaignFactory(), SalesforceCampaignFactory(is_active=False)]
    prospects = ProspectFactory.create_batch(3, assigned_user=marketer)
    MembershipFactory(prospect=prospects[0], campaign=salesforce_campaigns[0])
    errors = [SyncErrorFactory(prospect=prospect) for prospect in prospects]
    done = Import.objects.create(created_by=marketer, file_name="done.csv", state="done")
    queued = Import.objects.create(created_by=marketer, file_name="queued.csv", state="queued")
    return {
        "headers": {"Authorization": f"Bearer {key_client(marketer).key}"},
        "ids": {
            "/api/v1/prospects/": [p.pk for p in prospects],
            "/api/v1/sync-errors/": [e.pk for e in errors],
            "/api/v1/campaigns/": [campaign.pk],
            "/api/v1/salesforce-campaigns/": [c.pk for c in salesforce_campaigns],
            "/api/v1/imports/": [done.pk, queued.pk],
        },
    }


def aim_at_real_rows(case, world) -> None:
    """Most generated ids name no row; point half of the valid cases at real ones, so reads,
    updates and sync requests run for real too."""
    generated = (case.path_parameters or {}).get("id")
    if not isinstance(generated, int) or generated % 2 or case.meta.generation.mode != "positive":
        return
    ids = next(ids for prefix, ids in world["ids"].items() if case.path.startswith(prefix))
    case.path_parameters = {**case.path_parameters, "id": ids[generated // 2 % len(ids)]}


@pytest.fixture(autouse=True)
def _requests_in_the_test_transaction():
    """The WSGI handler closes the database connection around each request (as a server
    must); here requests run inside the test's transaction, as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_the_schema_covers_every_api_operation():
    paths = set(SPEC["paths"])
    assert {
        "/api/v1/prospects/",
        "/api/v1/prospects/{id}/",
        "/api/v1/prospects/upsert/",
        "/api/v1/prospects/batch/",
        "/api/v1/prospects/{id}/sync/",
        "/api/v1/sync-errors/",
        "/api/v1/campaigns/",
    } <= paths
    assert SPEC["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def bodies_of_the_wrong_shape_are_refused(ctx, response, case):
    """schemathesis' ``negative_data_rejection`` for request bodies: a body the schema does
    not allow (a wrong type, an unknown field, a value out of range) gets a 4xx. (Query
    filters are as lenient as the list page's: a date "2020-1-1" is a date.)"""
    meta = case.meta
    if meta is None or not meta.is_negative_at(ParameterLocation.BODY):
        return None
    if any(meta.is_negative_at(location) for location in meta.components if location != BODY):
        return None
    return negative_data_rejection(ctx, response, case)


BODY = ParameterLocation.BODY
# No 500, and every answer as documented: status, content type, body and headers.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    bodies_of_the_wrong_shape_are_refused,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, world):
    aim_at_real_rows(case, world)
    case.call_and_validate(headers=world["headers"], checks=CHECKS)
