"""Forms (embedded) and landing pages: what a visitor sees, what a submission and a view do,
and the marketer's editors."""

import django_rq
import pytest

from intake.models import Form, FormHandler, LandingPage
from intake.visitor import COOKIE
from prospects.factories import ProspectFactory
from prospects.models import (
    Activity,
    ActivityType,
    CustomField,
    Prospect,
    SyncQueueItem,
    SyncReason,
)
from tests.intake.conftest import make_form, make_page

pytestmark = pytest.mark.django_db


def test_a_landing_page_shows_title_text_and_form_and_its_get_changes_nothing(client):
    make_page()
    response = client.get("/l/webinar/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Join the webinar" in body and "<p>Sign up.</p>" in body
    assert 'name="email"' in body and 'name="leave_this_blank"' in body
    assert response["X-Frame-Options"] == "DENY"
    assert not Activity.objects.exists() and not Prospect.objects.exists()


def test_a_landing_page_submission_creates_the_prospect_with_its_activity(client):
    make_page()
    response = client.post(
        "/l/webinar/", {"email": "lp@example.com", "first_name": "Lee", "last_name": "Page"}
    )
    assert response.status_code == 200
    assert "Thank you!" in response.content.decode()
    prospect = Prospect.objects.get(email="lp@example.com")
    activity = prospect.activities.get()
    assert (activity.type, activity.title) == (ActivityType.LANDING_PAGE, "Webinar page")
    assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.LANDING_PAGE
    assert COOKIE in response.cookies


def test_a_missing_required_field_shows_the_form_again_with_the_reason(client):
    make_page()
    response = client.post("/l/webinar/", {"email": "lp@example.com", "last_name": "<b>Page</b>"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in body
    assert 'value="&lt;b&gt;Page&lt;/b&gt;"' in body  # what they typed, escaped
    assert not Prospect.objects.exists()


def test_a_thank_you_redirect(client):
    make_page(form=make_form(thank_you_url="https://www.acme.example/see-you"))
    response = client.post("/l/webinar/", {"email": "r@example.com", "first_name": "R"})
    assert (
        response.status_code == 302 and response["Location"] == "https://www.acme.example/see-you"
    )


def test_the_view_beacon_records_a_view_for_a_known_visitor_once_in_a_while(client):
    make_page()
    assert client.post("/l/webinar/view/").status_code == 204  # unknown visitor: nothing
    assert not Activity.objects.exists()
    client.post("/l/webinar/", {"email": "v@example.com", "first_name": "V"})  # sets the cookie
    prospect = Prospect.objects.get(email="v@example.com")
    assert client.post("/l/webinar/view/").status_code == 204
    assert client.post("/l/webinar/view/").status_code == 204
    views = prospect.activities.filter(type=ActivityType.LANDING_PAGE_VIEW)
    assert views.count() == 1 and views.get().title == "Webinar page"
    redis = django_rq.get_connection("default")
    for key in redis.scan_iter("leadbridge:lpview:*"):
        redis.delete(key)  # half an hour later
    cross_site = client.post("/l/webinar/view/", headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 204 and views.count() == 1  # another site: not counted
    client.post("/l/webinar/view/", headers={"Origin": "http://testserver"})
    assert views.count() == 2
    assert client.get("/l/webinar/view/").status_code == 405


def test_the_embed_view_may_be_framed_by_the_allowed_sites_only(client):
    make_form(allowed_origins="https://www.acme.example")
    response = client.get("/f/webinar-form/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == "frame-ancestors 'self' https://www.acme.example"
    open_form = make_form(slug="open")
    assert client.get("/f/open/")["Content-Security-Policy"] == "frame-ancestors 'self' *"
    assert open_form.pk


def test_an_embedded_form_submission_is_a_form_activity(client):
    make_form()
    response = client.post(
        "/f/webinar-form/",
        {"email": "f@example.com", "first_name": "F"},
        headers={"Origin": "https://anywhere.example"},
    )
    assert response.status_code == 200
    prospect = Prospect.objects.get(email="f@example.com")
    assert prospect.activities.get().type == ActivityType.FORM
    assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.FORM


def test_a_dropdown_custom_field_offers_its_predefined_values_and_refuses_others(client):
    CustomField.objects.create(
        api_name="topic", label="Topic", type="dropdown", choices=["Pricing", "Support"]
    )
    form = make_form()
    form.fields.create(prospect_field="custom:topic", order=9, required=True)
    body = client.get("/f/webinar-form/").content.decode()
    assert '<option value="Pricing">Pricing</option>' in body
    bad = {"email": "t@example.com", "first_name": "T", "custom:topic": "Other"}
    assert client.post("/f/webinar-form/", bad).status_code == 400
    good = {**bad, "custom:topic": "Support"}
    assert client.post("/f/webinar-form/", good).status_code == 200
    assert Prospect.objects.get(email="t@example.com").custom_fields == {"topic": "Support"}


def test_an_unpublished_page_is_404(client):
    page = make_page()
    page.is_active = False
    page.save()
    assert client.get("/l/webinar/").status_code == 404


# -- the marketer's pages ---------------------------------------------------------------------


def test_marketers_list_and_filter(marketer_client, django_assert_max_num_queries):
    make_page()
    FormHandler.objects.create(name="Contact us", slug="contact-us")
    FormHandler.objects.create(name="Partners", slug="partners", is_active=False)
    with django_assert_max_num_queries(15):
        response = marketer_client.get("/intake/form-handlers/?is_active=true")
    body = response.content.decode()
    assert "Contact us" in body and "Partners" not in body and "/fh/contact-us/" in body
    assert "Webinar sign-up" in marketer_client.get("/intake/forms/?q=webinar").content.decode()
    assert "Webinar page" in marketer_client.get("/intake/landing-pages/").content.decode()


def _formset(prefix: str, rows: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{key}": value for key, value in row.items()})
    return data


def test_a_marketer_creates_a_form_handler_with_its_mapping(marketer_client):
    data = {
        "name": "Demo request",
        "slug": "demo-request",
        "is_active": "on",
        "honeypot_field": "hp",
        "action_score": "10",
        **_formset(
            "fields",
            [
                {"external_name": "your-email", "prospect_field": "email", "required": "on"},
                {"external_name": "org", "prospect_field": "company"},
            ],
        ),
    }
    response = marketer_client.post("/intake/form-handlers/new/", data)
    handler = FormHandler.objects.get(slug="demo-request")
    assert response.status_code == 302 and response["Location"] == handler.get_absolute_url()
    assert {(f.external_name, f.prospect_field, f.required) for f in handler.fields.all()} == {
        ("your-email", "email", True),
        ("org", "company", False),
    }
    page = marketer_client.get(handler.get_absolute_url()).content.decode()
    assert "http://testserver/fh/demo-request/" in page


def test_a_form_without_an_email_field_is_refused(marketer_client):
    data = {
        "name": "No email",
        "slug": "no-email",
        "honeypot_field": "hp",
        "submit_label": "Go",
        "action_score": "0",
        **_formset("fields", [{"prospect_field": "company", "order": "1"}]),
    }
    response = marketer_client.post("/intake/forms/new/", data)
    assert response.status_code == 200
    assert "Map one field to the prospect" in response.content.decode()
    assert not Form.objects.exists()


def test_the_form_page_shows_its_embed_snippet(marketer_client):
    form = make_form()
    body = marketer_client.get(form.get_absolute_url()).content.decode()
    assert '&lt;iframe src="http://testserver/f/webinar-form/"' in body


def test_a_marketer_creates_a_landing_page(marketer_client):
    form = make_form()
    response = marketer_client.post(
        "/intake/landing-pages/new/",
        {
            "name": "Launch",
            "slug": "launch",
            "title": "We launched",
            "form": form.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert LandingPage.objects.get(slug="launch").form == form


def test_the_prospect_page_loads_its_preference_links(marketer_client):
    prospect = ProspectFactory()
    detail = marketer_client.get(prospect.get_absolute_url()).content.decode()
    assert f"/intake/prospects/{prospect.pk}/preference-links/" in detail
    links = marketer_client.get(f"/intake/prospects/{prospect.pk}/preference-links/")
    body = links.content.decode()
    assert "http://testserver/p/" in body and "/unsubscribe/" in body


def test_the_demo_ships_its_form_handler_and_landing_page(client):
    from portal.demo import load_demo_forms

    load_demo_forms()
    load_demo_forms()  # idempotent
    assert client.get("/l/demo-webinar/").status_code == 200
    response = client.post("/fh/demo-contact-us/", {"email": "demo@example.com", "company": "D"})
    assert response.status_code == 200
    from intake.received import process_received

    process_received()
    assert Prospect.objects.get(email="demo@example.com").company == "D"
    assert FormHandler.objects.filter(slug="demo-contact-us").count() == 1
