"""Websites: only http(s) addresses become links; other schemes are refused where people type
them and kept as plain text when Salesforce sends them."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import timezone

from prospects.factories import ProspectFactory, UserFactory
from prospects.forms import ProspectForm
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.errors.fix import clean_value
from sync.models import SyncCursor
from tests.fixtures.xss_corpus import SCRIPT_URLS

SCRIPT_WEBSITE = "javascript:alert('xss')"


def render_link(value) -> str:
    return Template("{% load links %}{{ value|safe_link }}").render(Context({"value": value}))


@pytest.mark.parametrize(
    ("value", "href"),
    [
        ("https://acme.example/about?a=1&b=2", "https://acme.example/about?a=1&amp;b=2"),
        ("HTTP://ACME.EXAMPLE", "HTTP://ACME.EXAMPLE"),
        # Salesforce's Website fields hold bare domains; Salesforce links them with http://.
        ("acme.example", "http://acme.example"),
        ("www.acme.example/en/", "http://www.acme.example/en/"),
        ("  acme.example ", "http://acme.example"),
    ],
)
def test_web_addresses_and_bare_domains_become_links(value, href):
    html = render_link(value)
    assert html.startswith(f'<a href="{href}" rel="noopener noreferrer nofollow"')
    assert html.count("<a ") == 1


@pytest.mark.parametrize(
    "value",
    [
        *SCRIPT_URLS,
        "ftp://files.acme.example",
        "mailto:sales@acme.example",
        "//evil.example/path",
        "https://bank.example@evil.example/",  # credentials: the classic disguise
        "Acme Corporation",
        "n/a",
    ],
)
def test_anything_else_is_plain_escaped_text(value):
    html = render_link(value)
    assert "<a" not in html and "href" not in html
    assert "<script" not in html


def test_a_link_keeps_markup_in_the_address_escaped():
    html = render_link("https://acme.example/\"><script>alert('xss')</script>")
    assert "<script" not in html
    assert html.count('"') == 6  # href, rel, target: nothing broke out of the attribute


def test_blank_renders_nothing():
    assert render_link("") == render_link(None) == ""


@pytest.mark.django_db
@pytest.mark.parametrize("website", [SCRIPT_WEBSITE, "data:text/html,hi", "ftp://acme.example"])
def test_the_prospect_form_refuses_addresses_that_are_not_http(website):
    form = ProspectForm(data={"email": "a@acme.example", "score": 0, "website": website})
    assert not form.is_valid()
    assert "http://" in form.errors["website"][0]


@pytest.mark.django_db
def test_the_prospect_form_takes_a_bare_domain_as_a_web_address():
    form = ProspectForm(data={"email": "a@acme.example", "score": 0, "website": "acme.example"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["website"] == "https://acme.example"


@pytest.mark.django_db
@pytest.mark.parametrize("website", [SCRIPT_WEBSITE, "ftp://acme.example"])
def test_a_sync_error_fix_or_csv_reimport_refuses_addresses_that_are_not_http(website):
    """The Sync Errors fix form and the corrected-CSV re-import both go through clean_value."""
    with pytest.raises(ValidationError):
        clean_value("website", website)


@pytest.mark.django_db
def test_a_script_website_from_salesforce_is_kept_as_text_never_linked_and_noted(
    connector, sf, marketer_client, unique_email
):
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, website="")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    SyncCursor.objects.update_or_create(
        connector=connector,
        sobject="Lead",
        defaults={"watermark": timezone.now() - dt.timedelta(seconds=5)},
    )
    sf.Lead.update(prospect.crm_lead_id, {"Website": SCRIPT_WEBSITE})

    pull_changes(connector=connector)

    prospect.refresh_from_db()
    assert prospect.website == SCRIPT_WEBSITE  # nothing Salesforce holds is lost
    entry = prospect.sync_history.filter(operation="pull").first()
    assert "not linked" in entry.message
    page = marketer_client.get(prospect.get_absolute_url()).content.decode()
    assert 'href="javascript:' not in page
    assert "javascript:alert(&#x27;xss&#x27;)" in page  # shown, as text
    assert "not linked" in page  # the history says why
