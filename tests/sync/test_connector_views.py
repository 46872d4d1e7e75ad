"""Connector and settings pages through the front door: roles, bad input, secrets, history."""

import socket
import threading
from pathlib import Path

import pytest
import trustme
from django.db import connection
from django.test import Client as DjangoClient
from django.urls import reverse

from sync.models import Connector, ConnectorChange, FieldRule
from tests.fixtures.connector import sandbox_connector
from tests.sync.factories import ConnectorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Django's test client (kept explicit; the Salesforce client fixture is ``sf_client``)."""
    return DjangoClient()


ADMIN_PAGES = [
    ("sync:connector", {}),
    ("sync:connector_edit", {}),
    ("sync:field_rules", {}),
    ("sync:custom_fields", {}),
    ("sync:custom_field_create", {}),
    ("sync:wizard", {"step": 1}),
]


def form_data(sandbox_org, **overrides) -> dict:
    data = {
        "login_url": sandbox_org.login_url,
        "grant_type": "password",
        "client_id": sandbox_org.client_id,
        "client_secret": sandbox_org.client_secret,
        "username": sandbox_org.username,
        "password": sandbox_org.password,
        "api_version": sandbox_org.api_version,
        "ca_bundle": Path(sandbox_org.ca_bundle).read_text(),
    }
    return {**data, **overrides}


@pytest.mark.parametrize(("name", "kwargs"), ADMIN_PAGES)
def test_marketers_get_403_on_every_connector_page(marketer_client, name, kwargs):
    ConnectorFactory()
    assert marketer_client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "sync:connector_settings",
        "sync:data_sharing",
        "sync:connector_verify",
        "sync:connector_state",
    ],
)
def test_marketers_get_403_on_posts_too(marketer_client, name):
    ConnectorFactory()
    assert marketer_client.post(reverse(name), {"state": "active"}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("sync:connector"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_without_a_connector_the_page_offers_setup(admin_client_):
    response = admin_client_.get(reverse("sync:connector"))
    assert b"Start setup" in response.content


def test_saving_a_working_connection_tests_it_and_starts_paused(admin_client_, sandbox_org):
    response = admin_client_.post(reverse("sync:connector_edit"), form_data(sandbox_org))

    assert response.status_code == 302, response.context["form"].errors
    connector = Connector.objects.get()
    assert connector.state == Connector.State.PAUSED
    assert connector.instance_url == sandbox_org.instance_url
    assert connector.field_rules.filter(fixed=True).count() == 9
    changed = dict(ConnectorChange.objects.values_list("field", "new"))
    assert changed["client_secret"] == changed["password"] == "(changed)"
    assert sandbox_org.client_secret not in str(list(ConnectorChange.objects.values()))


def test_secrets_are_encrypted_at_rest_and_never_rendered_back(admin_client_, sandbox_org):
    admin_client_.post(reverse("sync:connector_edit"), form_data(sandbox_org))
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret, password FROM sync_connector")
        stored = cursor.fetchone()
    assert all(value.startswith("fernet:") for value in stored)
    assert sandbox_org.password not in "".join(stored)

    page = admin_client_.get(reverse("sync:connector_edit")).content.decode()
    detail = admin_client_.get(reverse("sync:connector")).content.decode()
    assert sandbox_org.client_secret not in page + detail
    assert sandbox_org.password not in page + detail
    assert "Leave blank to keep the current value." in page


def test_blank_secrets_keep_the_stored_ones(admin_client_, sandbox_org):
    admin_client_.post(reverse("sync:connector_edit"), form_data(sandbox_org))
    response = admin_client_.post(
        reverse("sync:connector_edit"),
        form_data(sandbox_org, client_secret="", password="", api_version="60.0"),
    )
    assert response.status_code == 302
    connector = Connector.objects.get()
    assert connector.password == sandbox_org.password
    assert connector.api_version == "60.0"
    assert ConnectorChange.objects.filter(field="api_version", old="59.0", new="60.0").exists()
    assert ConnectorChange.objects.filter(field="password").count() == 1


def assert_refused(response, text: str) -> None:
    assert response.status_code == 200
    assert text in response.content.decode()
    assert (
        "Nothing was saved" in response.content.decode()
        or "nothing was saved" in response.content.decode()
    )
    assert not Connector.objects.exists()


def test_an_invalid_login_url_is_refused(admin_client_, sandbox_org):
    response = admin_client_.post(
        reverse("sync:connector_edit"), form_data(sandbox_org, login_url="not a url")
    )
    assert_refused(response, "Enter a valid URL.")
    response = admin_client_.post(
        reverse("sync:connector_edit"), form_data(sandbox_org, login_url="http://login.example.com")
    )
    assert_refused(response, "Salesforce login URLs use https://.")


def test_wrong_credentials_show_salesforces_error_description(admin_client_, sandbox_org):
    response = admin_client_.post(
        reverse("sync:connector_edit"), form_data(sandbox_org, password="wrong")
    )
    assert_refused(
        response, "Salesforce refused the credentials: authentication failure (invalid_grant)"
    )


def list_login_host(settings, port: int) -> None:
    settings.SALESFORCE_LOGIN_HOSTS = [*settings.SALESFORCE_LOGIN_HOSTS, f"127.0.0.1:{port}"]


def test_an_unreachable_host_is_reported_in_plain_words(admin_client_, sandbox_org, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    list_login_host(settings, port)
    response = admin_client_.post(
        reverse("sync:connector_edit"),
        form_data(sandbox_org, login_url=f"https://127.0.0.1:{port}"),
    )
    assert_refused(response, "The login URL cannot be reached")


def test_an_untrusted_certificate_is_a_tls_failure(admin_client_, sandbox_org):
    other_ca = trustme.CA().cert_pem.bytes().decode()
    response = admin_client_.post(
        reverse("sync:connector_edit"), form_data(sandbox_org, ca_bundle=other_ca)
    )
    assert_refused(response, "The connection is not trusted")


def test_a_silent_server_times_out(admin_client_, sandbox_org, monkeypatch, settings):
    monkeypatch.setattr("sync.salesforce.TIMEOUT", (1, 1))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    list_login_host(settings, server.getsockname()[1])
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        response = admin_client_.post(
            reverse("sync:connector_edit"),
            form_data(sandbox_org, login_url=f"https://127.0.0.1:{server.getsockname()[1]}"),
        )
    finally:
        server.close()
    assert_refused(response, "The login URL did not answer in time")


def test_settings_save_with_history_and_bounds(admin_client_, sync_admin):
    connector = ConnectorFactory()
    data = {
        "new_record_type": "Lead",
        "email_precedence": "most_recent",
        "match_by_email": "on",
        "sync_interval": "30",
        "batch_threshold": "400",
        "api_share": "50",
    }
    response = admin_client_.post(reverse("sync:connector_settings"), data)
    assert response.status_code == 302
    connector.refresh_from_db()
    assert connector.sync_interval == 30
    change = ConnectorChange.objects.get(field="sync_interval")
    assert (change.old, change.new, change.user) == ("120", "30", sync_admin)
    assert (
        ConnectorChange.objects.get(field="email_precedence").new == "Most recently modified record"
    )

    response = admin_client_.post(
        reverse("sync:connector_settings"), {**data, "sync_interval": "5", "api_share": "150"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"sync_interval", "api_share"}
    page = admin_client_.get(reverse("sync:connector_settings")).content.decode()
    assert "Most recently modified record" in page  # the history is on the page


def test_person_account_records_need_person_account_syncing(admin_client_):
    ConnectorFactory()
    response = admin_client_.post(
        reverse("sync:connector_settings"),
        {
            "new_record_type": "PersonAccount",
            "email_precedence": "contact_first",
            "sync_interval": "120",
            "batch_threshold": "400",
            "api_share": "50",
        },
    )
    assert "Turn on person account syncing first." in response.content.decode()


def test_unpausing_needs_a_clean_verification(admin_client_, sandbox_org):
    connector = sandbox_connector(sandbox_org)
    response = admin_client_.post(reverse("sync:connector_state"), {"state": "active"}, follow=True)
    assert "Verify the connector" in response.content.decode()
    connector.refresh_from_db()
    assert connector.state == Connector.State.PAUSED

    admin_client_.post(reverse("sync:connector_verify"))
    admin_client_.post(reverse("sync:connector_state"), {"state": "active"})
    connector.refresh_from_db()
    assert connector.state == Connector.State.ACTIVE
    assert ConnectorChange.objects.filter(field="state", old="Paused", new="Active").exists()


def test_every_sync_admin_page_shows_the_banner_naming_what_was_lost(admin_client_):
    ConnectorFactory(
        state=Connector.State.NEEDS_ATTENTION,
        problems=[
            {
                "kind": "field",
                "label": "Lead.Title",
                "detail": "cannot edit it",
                "sobject": "Lead",
                "field": "Title",
            }
        ],
    )
    for name in (
        "sync:connector",
        "sync:field_rules",
        "sync:connector_settings",
        "sync:custom_fields",
        "sync:data_sharing",
        "prospects:list",
    ):
        page = admin_client_.get(reverse(name)).content.decode()
        assert page.count("Lead.Title: the connector user cannot edit it.") == 1, name


def test_fixed_rows_show_their_reason_and_cannot_be_edited(admin_client_):
    from sync.mapping import ensure_default_rules

    connector = ConnectorFactory()
    ensure_default_rules(connector)
    page = admin_client_.get(reverse("sync:field_rules")).content.decode()
    assert "Salesforce is always the master for the record owner" in page
    score = FieldRule.objects.get(prospect_field="score")
    response = admin_client_.post(
        reverse("sync:field_rule_edit", args=[score.pk]), {"behaviour": "salesforce"}
    )
    assert response.status_code == 302
    score.refresh_from_db()
    assert score.behaviour == FieldRule.Behaviour.LEADBRIDGE


def test_verification_state_changes_are_in_the_history(sandbox_org):
    from sync.verification import verify_connector

    connector = sandbox_connector(sandbox_org, state=Connector.State.NEEDS_ATTENTION)
    verify_connector(connector=connector)
    change = ConnectorChange.objects.get(subject="verification")
    assert (change.field, change.old, change.new, change.user) == (
        "state",
        "Needs attention",
        "Active",
        None,
    )
    assert connector.instance_url == sandbox_org.instance_url
