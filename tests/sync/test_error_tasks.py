# ruff: noqa: F811 - fixtures imported from factories_errors
"""The Sync Errors page's background jobs: their own worker, a polite refusal without Redis,
nothing left behind when one fails, and reports shown only to their owner and Sync admins."""

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core.models import Task
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncQueueItem
from sync.errors import jobs
from sync.errors.views import UPLOAD_DIR

from .factories_errors import SyncErrorFactory, marketer_web, web  # noqa: F401

pytestmark = pytest.mark.django_db
PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def _upload(text: str) -> io.BytesIO:
    upload = io.BytesIO(text.encode())
    upload.name = "corrected.csv"
    return upload


def _uploads() -> set[Path]:
    return set(UPLOAD_DIR.glob("*")) if UPLOAD_DIR.exists() else set()


def test_with_redis_down_the_import_is_refused_politely_and_nothing_runs(
    marketer_web, redis_down, django_capture_on_commit_callbacks
):
    prospect = ProspectFactory(first_name="Before")
    uploads = _uploads()
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_web.post(
            reverse("sync:errors_import"),
            {"file": _upload(f"prospect_id,first_name\r\n{prospect.pk},After\r\n")},
        )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Background jobs are unavailable" in page and "try again" in page
    assert not Task.objects.exists()
    prospect.refresh_from_db()
    assert prospect.first_name == "Before"  # the job did not run inside the request
    assert _uploads() == uploads  # and the upload is not left behind


def test_with_redis_down_bulk_resync_is_refused_politely_and_nothing_runs(
    marketer_web, redis_down, django_capture_on_commit_callbacks
):
    error = SyncErrorFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_web.post(
            reverse("sync:errors_bulk_resync"), {"scope": "selected", "select": [error.pk]}
        )
    assert response.status_code == 200
    assert "Background jobs are unavailable" in response.content.decode()
    assert not Task.objects.exists()
    assert not SyncQueueItem.objects.exists()


def test_a_failing_import_deletes_its_upload_and_says_it_failed(tmp_path, marketer, monkeypatch):
    path = tmp_path / "errors-upload.csv"
    path.write_text("prospect_id,first_name\r\n1,Ann\r\n")
    task = Task.objects.create(kind="errors_import", created_by=marketer)

    def broken_disk(*args, **kwargs):
        raise OSError("Input/output error")

    monkeypatch.setattr(jobs, "import_file", broken_disk)
    with pytest.raises(OSError):
        jobs.import_job(task.pk, str(path))
    assert not path.exists()
    task.refresh_from_db()
    assert task.state == Task.State.FAILED and task.finished_at
    assert "stopped" in task.message


def test_imports_run_on_a_worker_of_their_own():
    """An import never waits behind a sync push, and a sync push never behind an import."""
    listening = {}
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        if "rqworker" in command:
            words = command.split("rqworker", 1)[1].split()
            listening[name] = {w for w in words if not w.startswith("-") and "." not in w}
    assert {"imports"} in listening.values()
    assert all("imports" not in queues for queues in listening.values() if "sync" in queues)


def _marketer(username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name="Marketer"))
    return user


@pytest.mark.parametrize(
    ("kind", "url_name"),
    [("errors_resync", "sync:errors_task"), ("errors_import", "sync:errors_import_report")],
)
def test_a_task_is_shown_to_its_owner_and_sync_admins_only(
    web, marketer, sync_admin, kind, url_name
):
    task = Task.objects.create(kind=kind, created_by=marketer, result={"refused": []})
    url = reverse(url_name, args=[task.pk])
    web.force_login(_marketer("another-marketer"))
    assert web.get(url).status_code == 403
    web.force_login(marketer)
    assert web.get(url).status_code == 200
    web.force_login(sync_admin)
    assert web.get(url).status_code == 200
