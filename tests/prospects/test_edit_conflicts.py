"""A stale edit form never undoes what changed while it was open (issue 11.1).

The marketer's form carries what it showed; only the fields the marketer changed are saved, and
a field that also changed underneath is shown as a conflict with both values, saving neither.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.models import FieldRule, SyncCursor
from tests.fixtures.html_forms import form_data, with_changes

pytestmark = pytest.mark.django_db


def edit_url(prospect: Prospect) -> str:
    return reverse("prospects:edit", args=[prospect.pk])


def open_form(client, prospect: Prospect) -> dict[str, list[str]]:
    """What the marketer's browser holds after opening the edit page."""
    return form_data(client.get(edit_url(prospect)).content.decode(), testid="prospect-form")


@pytest.fixture
def synced(connector, unique_email):
    """A prospect with phone 111 pushed to a new Lead; phone syncs "most recent wins"."""
    FieldRule.objects.filter(connector=connector, prospect_field="phone").update(
        behaviour=FieldRule.Behaviour.MOST_RECENT
    )
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospect = ProspectFactory(
        email=unique_email(), assigned_user=owner, phone="111", company="Initech"
    )
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id
    for sobject in ("Lead", "Contact"):
        SyncCursor.objects.update_or_create(
            connector=connector,
            sobject=sobject,
            defaults={"watermark": timezone.now() - dt.timedelta(seconds=5)},
        )
    return prospect


def test_a_pull_while_the_form_is_open_survives_an_edit_of_another_field(
    connector, sf, synced, marketer_client
):
    """The issue's case: phone 111 when the form opened, a pull set 222, the marketer changed
    only the company → phone stays 222, here and in Salesforce."""
    shown = open_form(marketer_client, synced)
    sf.Lead.update(synced.crm_lead_id, {"Phone": "222"})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.phone == "222"

    response = marketer_client.post(edit_url(synced), with_changes(shown, company="Globex"))

    assert response.status_code == 302
    synced.refresh_from_db()
    assert (synced.phone, synced.company) == ("222", "Globex")
    assert "phone" not in [c["field"] for c in synced.sync_history.first().changes]
    push_prospects(connector=connector, prospect_ids=[synced.pk])
    lead = sf.Lead.get(synced.crm_lead_id)
    assert (lead["Phone"], lead["Company"]) == ("222", "Globex")


def test_a_field_changed_on_both_sides_is_a_conflict_showing_both_values(
    connector, sf, synced, marketer_client
):
    shown = open_form(marketer_client, synced)
    sf.Lead.update(synced.crm_lead_id, {"Phone": "222"})
    pull_changes(connector=connector)

    response = marketer_client.post(
        edit_url(synced), with_changes(shown, phone="333", company="Globex")
    )

    assert response.status_code == 200
    html = response.content.decode()
    conflict = response.context["form"].conflicts["phone"]
    assert (conflict.shown, conflict.yours, conflict.theirs) == ("111", "333", "222")
    assert "222" in html and "333" in html and "Salesforce" in html
    assert "nothing was saved" in html.lower()
    synced.refresh_from_db()
    assert (synced.phone, synced.company) == ("222", "Initech")


@pytest.mark.parametrize(("choice", "phone"), [("mine", "333"), ("theirs", "222")])
def test_the_marketer_chooses_which_value_wins_a_conflict(marketer_client, marketer, choice, phone):
    prospect = ProspectFactory(phone="111", company="Initech")
    shown = open_form(marketer_client, prospect)
    Prospect.objects.filter(pk=prospect.pk).update(phone="222")  # another edit meanwhile
    again = marketer_client.post(
        edit_url(prospect), with_changes(shown, phone="333", company="Globex")
    )
    assert again.status_code == 200

    resolved = form_data(again.content.decode(), testid="prospect-form")
    response = marketer_client.post(
        edit_url(prospect), with_changes(resolved, **{"resolve:phone": choice})
    )

    assert response.status_code == 302
    prospect.refresh_from_db()
    assert (prospect.phone, prospect.company) == (phone, "Globex")


def test_an_unresolved_conflict_asks_again_and_saves_nothing(marketer_client):
    prospect = ProspectFactory(phone="111", company="Initech")
    shown = open_form(marketer_client, prospect)
    Prospect.objects.filter(pk=prospect.pk).update(phone="222")
    again = marketer_client.post(edit_url(prospect), with_changes(shown, phone="333"))
    resolved = form_data(again.content.decode(), testid="prospect-form")
    response = marketer_client.post(edit_url(prospect), resolved)  # no choice made
    assert response.status_code == 200
    assert "phone" in response.context["form"].conflicts
    prospect.refresh_from_db()
    assert prospect.phone == "222"


def test_the_conflict_page_shows_current_values_for_fields_the_marketer_left_alone(
    marketer_client,
):
    prospect = ProspectFactory(phone="111", city="Oslo", company="Initech")
    shown = open_form(marketer_client, prospect)
    Prospect.objects.filter(pk=prospect.pk).update(phone="222", city="Bergen")
    again = marketer_client.post(edit_url(prospect), with_changes(shown, phone="333"))
    resolved = form_data(again.content.decode(), testid="prospect-form")
    assert resolved["city"] == ["Bergen"] and resolved["phone"] == ["333"]
    marketer_client.post(edit_url(prospect), with_changes(resolved, **{"resolve:phone": "mine"}))
    prospect.refresh_from_db()
    assert (prospect.phone, prospect.city) == ("333", "Bergen")


def test_the_same_change_on_both_sides_is_no_conflict(marketer_client):
    prospect = ProspectFactory(phone="111", company="Initech")
    shown = open_form(marketer_client, prospect)
    Prospect.objects.filter(pk=prospect.pk).update(phone="222")
    response = marketer_client.post(
        edit_url(prospect), with_changes(shown, phone="222", company="Globex")
    )
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert (prospect.phone, prospect.company) == ("222", "Globex")


def test_an_untouched_multi_line_comment_is_no_edit(marketer_client):
    """Browsers send a text area's line breaks as CRLF: that is not a change of the text."""
    prospect = ProspectFactory(comments="First line.\nSecond line.", company="Initech")
    shown = open_form(marketer_client, prospect)
    assert shown["comments"] == ["First line.\r\nSecond line."]
    Prospect.objects.filter(pk=prospect.pk).update(comments="Rewritten in Salesforce.")
    response = marketer_client.post(edit_url(prospect), with_changes(shown, company="Globex"))
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert (prospect.comments, prospect.company) == ("Rewritten in Salesforce.", "Globex")


def test_an_untouched_bare_domain_website_is_no_edit(marketer_client):
    """Salesforce holds websites without a scheme ("acme.example"); the form's field would read
    the untouched value as "https://acme.example", a change nobody made, sent back to Salesforce
    at the next push. Typed anew, a bare domain still gains https://."""
    prospect = ProspectFactory(website="acme.example", company="Initech")
    shown = open_form(marketer_client, prospect)
    assert shown["website"] == ["acme.example"]
    response = marketer_client.post(edit_url(prospect), with_changes(shown, company="Globex"))
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert (prospect.website, prospect.company) == ("acme.example", "Globex")
    assert "website" not in (prospect.field_changed_at or {})
    shown = open_form(marketer_client, prospect)
    marketer_client.post(edit_url(prospect), with_changes(shown, website="globex.example"))
    prospect.refresh_from_db()
    assert prospect.website == "https://globex.example"


def test_custom_fields_changed_underneath_survive_an_edit(marketer_client):
    from prospects.models import CustomField

    CustomField.objects.create(api_name="tier", label="Tier")
    CustomField.objects.create(
        api_name="topics", label="Topics", type="multi_select", choices=["a", "b", "c"]
    )
    prospect = ProspectFactory(custom_fields={"tier": "gold", "topics": "a;b"})
    shown = open_form(marketer_client, prospect)
    assert shown["custom:topics"] == ["a", "b"]
    Prospect.objects.filter(pk=prospect.pk).update(
        custom_fields={"tier": "platinum", "topics": "a;b"}
    )
    marketer_client.post(edit_url(prospect), with_changes(shown, custom__topics=["c"]))
    prospect.refresh_from_db()
    assert prospect.custom_fields == {"tier": "platinum", "topics": "c"}


def test_an_unchanged_form_saves_nothing_even_when_the_row_moved(marketer_client):
    prospect = ProspectFactory(phone="111")
    shown = open_form(marketer_client, prospect)
    Prospect.objects.filter(pk=prospect.pk).update(phone="222")
    response = marketer_client.post(edit_url(prospect), shown)
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert prospect.phone == "222" and "phone" not in prospect.field_changed_at


def test_a_forged_form_is_refused(marketer_client):
    prospect = ProspectFactory(phone="111")
    shown = open_form(marketer_client, prospect)
    shown["shown"] = [shown["shown"][0][:-4] + "AAAA"]
    response = marketer_client.post(edit_url(prospect), with_changes(shown, phone="333"))
    assert response.status_code == 200
    assert "reload" in " ".join(response.context["form"].non_field_errors()).lower()
    prospect.refresh_from_db()
    assert prospect.phone == "111"


@pytest.mark.skipif(not connection.features.has_select_for_update, reason="SQLite has no row locks")
def test_the_edit_is_applied_under_a_row_lock(marketer_client):
    prospect = ProspectFactory(phone="111")
    shown = open_form(marketer_client, prospect)
    with CaptureQueriesContext(connection) as queries:
        marketer_client.post(edit_url(prospect), with_changes(shown, phone="333"))
    locked = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert any('"prospects_prospect"' in sql for sql in locked)
