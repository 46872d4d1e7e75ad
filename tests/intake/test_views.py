"""The Imports pages through the front door: upload, map, progress, report, history."""

import codecs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from intake.models import Import, ImportTemplate
from prospects.models import Prospect
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

CSV = (
    "E-mail Address,First Name,Last Name,Company / Account,Lead Owner,Mystery\n"
    "ann@example.com,Ann,Lee,Acme,Sam,x\n"
    "bob@example.com,Bob,Ray,Globex,Sam,y\n"
)


def _upload(client, data=CSV, name="leads.csv"):
    file = SimpleUploadedFile(name, data.encode() if isinstance(data, str) else data)
    return client.post(reverse("intake:import_new"), {"file": file})


def _map_post(run, **extra):
    data = {f"column_{i}": field for i, field in enumerate(extra.pop("columns", []))}
    data.update({"overwrite": "1", "create": "on", "validate_values": "on", "when": "now"})
    data.update(extra)
    return data


def test_upload_guesses_the_mapping_and_shows_the_first_rows(marketer_client):
    response = _upload(marketer_client)
    run = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:import_map", args=[run.pk])
    page = marketer_client.get(response["Location"])
    assert page.status_code == 200
    form = page.context["form"]
    guessed = [form[f"column_{i}"].value() for i in range(6)]
    assert guessed == ["email", "first_name", "last_name", "company", "", ""]
    assert b"ann@example.com" in page.content and b"UTF-8" in page.content


def test_mapping_then_run_then_report(
    marketer_client, run_jobs, django_capture_on_commit_callbacks
):
    _upload(marketer_client)
    run = Import.objects.get()
    url = reverse("intake:import_map", args=[run.pk])
    data = _map_post(
        run,
        columns=["email", "first_name", "last_name", "company", "", ""],
        template_name="SF leads",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    run_jobs("imports")
    page = marketer_client.get(reverse("intake:import", args=[run.pk]))
    assert page.context["run"].state == Import.State.DONE
    assert Prospect.objects.filter(email__in=["ann@example.com", "bob@example.com"]).count() == 2
    status = marketer_client.get(reverse("intake:import", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert b'data-state="done"' in status.content and b"hx-get" not in status.content
    report = marketer_client.get(reverse("intake:import_report", args=[run.pk]))
    assert b"".join(report.streaming_content).startswith(codecs.BOM_UTF8 + b"line,column")
    template = ImportTemplate.objects.get(name="SF leads")
    assert template.mapping["E-mail Address"] == "email"


def test_a_saved_template_maps_the_next_file(marketer_client, marketer):
    ImportTemplate.objects.create(
        owner=marketer, name="Mine", mapping={"Mystery": "notes", "E-mail Address": "email"}
    )
    _upload(marketer_client)
    run = Import.objects.get()
    template = ImportTemplate.objects.get()
    page = marketer_client.get(
        reverse("intake:import_map", args=[run.pk]), {"template": template.pk}
    )
    form = page.context["form"]
    assert form["column_0"].value() == "email" and form["column_5"].value() == "notes"
    assert form["column_1"].value() == ""


def test_duplicate_headers_get_a_clear_message_and_a_double_mapping_is_refused(marketer_client):
    _upload(marketer_client, "Email,Name,Email\na@x.io,A,b@x.io\n")
    run = Import.objects.get()
    url = reverse("intake:import_map", args=[run.pk])
    page = marketer_client.get(url)
    assert b"Some headers appear more than once" in page.content
    response = marketer_client.post(url, _map_post(run, columns=["email", "first_name", "email"]))
    assert response.status_code == 200
    assert "are both mapped to Email" in " ".join(response.context["form"].non_field_errors())
    assert Import.objects.get().state == Import.State.DRAFT


def test_no_email_column_is_a_mapping_error(marketer_client):
    _upload(marketer_client, "Name,Company\nA,B\n")
    run = Import.objects.get()
    response = marketer_client.post(
        reverse("intake:import_map", args=[run.pk]),
        _map_post(run, columns=["first_name", "company"]),
    )
    assert "No column is mapped to Email" in " ".join(response.context["form"].non_field_errors())


def test_binary_junk_gets_a_message_on_the_upload_page(marketer_client):
    response = _upload(marketer_client, bytes(range(256)) * 8, name="photo.csv")
    assert response.status_code == 200
    assert b"not a CSV or Excel file" in response.content
    assert not Import.objects.exists()


def test_an_upload_over_200_mb_is_refused_from_its_length(marketer_client):
    response = marketer_client.post(
        reverse("intake:import_new"), {}, CONTENT_LENGTH=str(250 * 2**20)
    )
    assert response.status_code == 413
    assert b"the limit is 200 MB" in response.content


def test_scheduling_after_hours(marketer_client, django_capture_on_commit_callbacks):
    _upload(marketer_client)
    run = Import.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(
            reverse("intake:import_map", args=[run.pk]),
            _map_post(run, columns=["email"], when="evening"),
        )
    run.refresh_from_db()
    assert run.state == Import.State.SCHEDULED and run.scheduled_for.astimezone().hour in range(24)
    page = marketer_client.get(reverse("intake:import", args=[run.pk]))
    assert b"Scheduled for" in page.content
    marketer_client.post(reverse("intake:import_cancel", args=[run.pk]))
    assert Import.objects.get().state == Import.State.CANCELLED


def test_a_time_in_the_past_is_refused(marketer_client):
    _upload(marketer_client)
    run = Import.objects.get()
    response = marketer_client.post(
        reverse("intake:import_map", args=[run.pk]),
        _map_post(run, columns=["email"], when="at", run_at="2020-01-01T20:00"),
    )
    assert "This time has passed" in str(response.context["form"].errors)


def test_marketers_see_their_own_imports_and_sync_admins_all(marketer_client, client, sync_admin):
    _upload(marketer_client)
    run = Import.objects.get()
    other = user_with_role("other-marketer", "Marketer")
    client.force_login(other)
    assert client.get(reverse("intake:import", args=[run.pk])).status_code == 404
    assert client.get(reverse("intake:import_report", args=[run.pk])).status_code == 404
    assert run.file_name not in client.get(reverse("intake:imports")).content.decode()
    client.force_login(sync_admin)
    assert run.file_name in client.get(reverse("intake:imports")).content.decode()


def test_history_filters_and_stays_at_a_few_queries(
    marketer_client, marketer, django_assert_max_num_queries
):
    for name in ("a.csv", "b.csv", "c.csv"):
        Import.objects.create(created_by=marketer, file_name=name, state=Import.State.DONE)
    with django_assert_max_num_queries(12):
        page = marketer_client.get(reverse("intake:imports"), {"file_name": "b."})
    assert [r.record.file_name for r in page.context["table"].rows] == ["b.csv"]
