"""Completion actions and imports through the action set (intake uses automation's actions)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.models import CampaignMembership
from intake import imports
from intake.forms.marketing import FormHandlerForm
from intake.received import process_received
from prospects.models import Prospect, SyncHistory, SyncQueueItem, SyncReason
from tests.crm.factories import SalesforceCampaignFactory
from tests.intake.conftest import make_handler

pytestmark = pytest.mark.django_db


def test_a_form_handlers_further_actions_run_on_completion(client):
    campaign = SalesforceCampaignFactory()
    make_handler(
        completion_actions=[
            {"type": "add_to_sf_campaign", "campaign": campaign.pk, "status": "Responded"},
            {"type": "set_field", "field": "industry", "value": "Robotics"},
        ]
    )
    client.post("/fh/contact-us/", {"email": "done@example.com"})
    process_received()
    prospect = Prospect.objects.get(email="done@example.com")
    assert prospect.industry == "Robotics"
    membership = CampaignMembership.objects.get(prospect=prospect, campaign=campaign)
    assert membership.status == "Responded"
    note = SyncHistory.objects.get(prospect=prospect, operation="completion action")
    assert note.reason == SyncReason.COMPLETION_ACTION and note.actor_label
    assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.COMPLETION_ACTION


def test_the_editor_refuses_an_action_on_a_deleted_campaign():
    campaign = SalesforceCampaignFactory()
    pk = campaign.pk
    campaign.delete()
    form = FormHandlerForm(
        data={
            "name": "X",
            "slug": "x",
            "honeypot_field": "website_url",
            "action_score": "0",
            "completion_actions": f'[{{"type": "add_to_sf_campaign", "campaign": {pk}}}]',
        }
    )
    assert not form.is_valid()
    assert "no longer exists" in " ".join(form.errors["completion_actions"])


def test_an_import_applies_its_actions_to_every_imported_prospect(
    marketer, django_capture_on_commit_callbacks, run_jobs
):
    campaign = SalesforceCampaignFactory()
    upload = SimpleUploadedFile("p.csv", b"Email\na@example.com\nb@example.com\n")
    options = imports.ImportOptions(
        actions=[{"type": "add_to_sf_campaign", "campaign": campaign.pk}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = imports.start_import(user=marketer, uploaded_file=upload, options=options)
    run_jobs("imports")
    run.refresh_from_db()
    assert run.state == "done", run.message
    assert CampaignMembership.objects.filter(campaign=campaign, status="Sent").count() == 2
