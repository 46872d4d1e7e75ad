"""POST /api/v1/imports/ → 202 and an id; GET it for state and counts; its row report."""

import codecs
import csv
import io

import pytest

from intake.models import Import
from prospects.factories import CampaignFactory, ProspectFactory
from prospects.models import Prospect, SyncQueueItem, SyncReason
from tests.api.conftest import key_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"
CSV = (
    "E-mail Address,First Name,Company / Account\n"
    "ann@example.com,Ann,Acme\n"
    "not-an-email,Bob,Bobco\n"
    "cy@example.com,Cy\n"  # ragged
)


def upload(api, text=CSV, name="people.csv", **options):
    return api.post(
        URL,
        {"file": io.BytesIO(text.encode() if isinstance(text, str) else text), **options},
        format="multipart",
    )


@pytest.fixture
def post(api, django_capture_on_commit_callbacks):
    """Post an import as a committed request would: its job goes to the imports queue."""

    def post(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return upload(api, **kwargs)

    return post


def test_an_import_is_accepted_run_and_reported(post, api, run_jobs, marketer):
    campaign = CampaignFactory()
    response = post(campaign=campaign.pk, assign_user=marketer.pk)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["state"] == "queued" and body["report"] is None
    run_jobs("imports")
    status = api.get(f"{URL}{body['id']}/").json()
    assert status["state"] == "done"
    assert (status["rows_read"], status["created"], status["failed"]) == (3, 2, 1)
    ann = Prospect.objects.get(email="ann@example.com")
    assert (ann.first_name, ann.campaign, ann.assigned_user) == ("Ann", campaign, marketer)
    assert SyncQueueItem.objects.get(prospect=ann).reason == SyncReason.CSV_IMPORT
    report = api.get(status["report"])
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    data = b"".join(report.streaming_content)
    assert data.startswith(codecs.BOM_UTF8)
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[1][0] == "3" and "not-an-email" in lines[1]


def test_a_mapping_by_header_and_options_are_taken(post, run_jobs, api):
    ProspectFactory(email="ann@example.com", first_name="Kept", company="")
    text = "Mail,Given\nann@example.com,Changed\n"
    response = post(
        text=text, mapping='{"Mail": "email", "Given": "first_name"}', overwrite="false"
    )
    assert response.status_code == 202, response.json()
    run_jobs("imports")
    assert Prospect.objects.get(email="ann@example.com").first_name == "Kept"
    assert api.get(f"{URL}{response.json()['id']}/").json()["unchanged"] == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": b"\x00\x01\x02binary\xff" * 50}, "file"),
        ({"text": "First Name\nAnn\n"}, "file"),  # nothing to match rows by
        ({"mapping": '["email"]'}, "mapping"),
        ({"mapping": "{not json"}, "mapping"),
        ({"campaign": 999999}, "campaign"),
        ({"overwrite": "perhaps"}, "overwrite"),
        ({"run_at": "tomorrow"}, "run_at"),
        ({"unknown": "1"}, "unknown"),
    ],
)
def test_a_file_or_options_that_cannot_run_are_400_and_keep_nothing(post, kwargs, field):
    response = post(**kwargs)
    assert response.status_code == 400
    assert field in response.json()
    assert not Import.objects.exclude(state=Import.State.CANCELLED).exists()


def test_no_file_is_400(api):
    response = api.post(URL, {"overwrite": "true"}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()


def test_the_report_waits_for_the_end_and_cancel_stops_it(post, api):
    run_id = post().json()["id"]
    assert api.get(f"{URL}{run_id}/report/").status_code == 409
    cancelled = api.post(f"{URL}{run_id}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert api.post(f"{URL}{run_id}/cancel/").status_code == 409
    assert api.get(f"{URL}{run_id}/report/").status_code == 200


def test_marketers_see_their_own_imports_and_sync_admins_all(post, marketer, sync_admin, db):
    run_id = post().json()["id"]
    other = key_client(user_with_role_other())
    assert other.get(f"{URL}{run_id}/").status_code == 404
    assert other.get(URL).json()["results"] == []
    admin = key_client(sync_admin)
    assert [r["id"] for r in admin.get(URL).json()["results"]] == [run_id]


def user_with_role_other():
    from tests.conftest import user_with_role

    return user_with_role("other-marketer", "Marketer")
