"""The connector's secrets go only where they were entered for, and only to login hosts.

The sandbox org plays Salesforce; what it cannot play — a login host that redirects the token
call, or answers with a plain-http instance URL — is a small HTTPS server here that records
every request it receives.
"""

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme
from django.test import Client as DjangoClient
from django.urls import reverse

from sync.models import Connector
from sync.verification import verify_connector
from tests.sync.factories import ConnectorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Django's test client (kept explicit; the Salesforce client fixture is ``sf_client``)."""
    return DjangoClient()


@dataclass
class Received:
    method: str
    host: str
    path: str
    body: str
    authorization: str


@dataclass
class FakeLoginHost:
    """``https_url`` + ``/redirect``: the token call answers 307 to ``localhost`` (which records
    the re-sent body); ``/http-instance``: a token whose instance URL is ``http_url`` — this
    same server named with http://, so a client that used it anyway is seen here."""

    https_url: str
    http_url: str
    ca_pem: str
    received: list[Received] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [r.path for r in self.received]


def _handler(fake: FakeLoginHost):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            fake.received.append(
                Received(
                    self.command,
                    self.headers.get("Host", ""),
                    self.path,
                    self.rfile.read(length).decode(),
                    self.headers.get("Authorization", ""),
                )
            )

        def _answer(self, status: int, body: dict, **headers: str) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._record()
            self._answer(404, [{"errorCode": "NOT_FOUND", "message": "nothing here"}])

        def do_POST(self) -> None:  # noqa: N802
            self._record()
            port = self.server.server_address[1]
            if self.path == "/redirect/services/oauth2/token":
                target = f"https://localhost:{port}/stolen/services/oauth2/token"
                self._answer(307, {}, Location=target)
            elif self.path == "/http-instance/services/oauth2/token":
                self._answer(
                    200,
                    {
                        "access_token": "00Dfake!token",
                        "instance_url": fake.http_url,
                        "id": f"{fake.https_url}/id/00D000000000001AAA/005000000000001AAA",
                    },
                )
            else:
                self._answer(400, {"error": "invalid_grant", "error_description": "no"})

    return Handler


@pytest.fixture
def fake_login():
    ca = trustme.CA()
    fake = FakeLoginHost("", "", ca.cert_pem.bytes().decode())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.https_url = f"https://127.0.0.1:{server.server_address[1]}"
    fake.http_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def listed(settings, fake_login):
    """The fake host (both of its names) in SALESFORCE_LOGIN_HOSTS."""
    port = fake_login.https_url.rsplit(":", 1)[1]
    settings.SALESFORCE_LOGIN_HOSTS = [
        *settings.SALESFORCE_LOGIN_HOSTS,
        f"127.0.0.1:{port}",
        f"localhost:{port}",
    ]
    return fake_login


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


def fake_form(sandbox_org, fake: FakeLoginHost, path: str) -> dict:
    return form_data(sandbox_org, login_url=fake.https_url + path, ca_bundle=fake.ca_pem)


# -- which hosts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://login.salesforce.com",
        "https://test.salesforce.com/",
        "https://acme.my.salesforce.com",
        "https://ACME.my.salesforce.com:443",
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://acme-dev-ed.develop.my.salesforce.com",
        "https://acme--feature.scratch.my.salesforce.com/services/oauth2/token",
    ],
)
def test_salesforces_own_login_hosts_are_allowed(url):
    from sync.login_hosts import is_allowed_login_url

    assert is_allowed_login_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://login.salesforce.com",  # not https
        "https://login.salesforce.com:8443",  # another port
        "https://login.salesforce.com.evil.example",
        "https://evil.example/login.salesforce.com",
        "https://login.salesforce.com@evil.example",
        "https://login.salesforce.com\\@evil.example",
        "https://evilmy.salesforce.com",
        "https://na1.salesforce.com",  # instance URLs are not login hosts
        "https://acme.my.site.com",  # Experience Cloud sites
        "https://acme.my.salesforce.com.",
        "https://acme.my.salesforce.com?x=1",
        "https://127.0.0.1:8443",
        "not a url",
        "",
    ],
)
def test_other_hosts_are_refused(url):
    from sync.login_hosts import is_allowed_login_url

    assert not is_allowed_login_url(url)


def test_listed_hosts_are_allowed_on_their_port_only(settings):
    from sync.login_hosts import is_allowed_login_url

    settings.SALESFORCE_LOGIN_HOSTS = ["127.0.0.1:8443", "Proxy.Example.com"]
    assert is_allowed_login_url("https://127.0.0.1:8443")
    assert not is_allowed_login_url("https://127.0.0.1:8444")
    assert is_allowed_login_url("https://proxy.example.com/sf")
    assert not is_allowed_login_url("https://proxy.example.com:8443")
    assert not is_allowed_login_url("http://127.0.0.1:8443")


# -- the form -------------------------------------------------------------------------------


def test_a_login_host_outside_salesforce_is_refused_before_any_call(
    admin_client_, sandbox_org, fake_login
):
    response = admin_client_.post(
        reverse("sync:connector_edit"), fake_form(sandbox_org, fake_login, "/redirect")
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "is not a Salesforce login host" in errors["login_url"][0]
    assert "SALESFORCE_LOGIN_HOSTS" in errors["login_url"][0]
    assert fake_login.received == []
    assert not Connector.objects.exists()


@pytest.mark.parametrize(
    ("change", "needed"),
    [
        ("login host", {"client_secret", "password"}),
        ("client id", {"client_secret", "password"}),
        ("grant", {"client_secret"}),
    ],
)
def test_blank_secrets_are_not_reused_when_the_host_grant_or_client_id_change(
    admin_client_, sandbox_org, settings, change, needed
):
    admin_client_.post(reverse("sync:connector_edit"), form_data(sandbox_org))
    stored = Connector.objects.get()
    port = sandbox_org.login_url.rsplit(":", 1)[1]
    settings.SALESFORCE_LOGIN_HOSTS = [*settings.SALESFORCE_LOGIN_HOSTS, f"127.0.0.1:{port}"]
    edit = {
        "login host": {"login_url": f"https://127.0.0.1:{port}"},
        "client id": {"client_id": "another-connected-app"},
        "grant": {"grant_type": "client_credentials"},
    }[change]

    response = admin_client_.post(
        reverse("sync:connector_edit"),
        form_data(sandbox_org, client_secret="", password="", **edit),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert needed <= errors.keys(), errors
    assert f"The {change} changed: enter" in errors["client_secret"][0]
    connector = Connector.objects.get()
    assert (connector.login_url, connector.client_id, connector.grant_type) == (
        stored.login_url,
        stored.client_id,
        stored.grant_type,
    )


def test_a_new_host_saves_once_the_secrets_are_entered_again(admin_client_, sandbox_org, settings):
    admin_client_.post(reverse("sync:connector_edit"), form_data(sandbox_org))
    port = sandbox_org.login_url.rsplit(":", 1)[1]
    settings.SALESFORCE_LOGIN_HOSTS = [*settings.SALESFORCE_LOGIN_HOSTS, f"127.0.0.1:{port}"]

    response = admin_client_.post(
        reverse("sync:connector_edit"),
        form_data(sandbox_org, login_url=f"https://127.0.0.1:{port}"),
    )

    assert response.status_code == 302
    assert Connector.objects.get().login_url == f"https://127.0.0.1:{port}"


# -- the token call -------------------------------------------------------------------------


def test_the_token_call_follows_no_redirect(admin_client_, sandbox_org, listed):
    response = admin_client_.post(
        reverse("sync:connector_edit"), fake_form(sandbox_org, listed, "/redirect")
    )

    assert listed.paths() == ["/redirect/services/oauth2/token"]  # the secrets were not re-sent
    page = response.content.decode()
    assert response.status_code == 200
    assert "The login URL redirects elsewhere" in page and "Nothing was saved" in page
    assert not Connector.objects.exists()


def test_an_instance_url_that_is_not_https_is_never_used(admin_client_, sandbox_org, listed):
    response = admin_client_.post(
        reverse("sync:connector_edit"), fake_form(sandbox_org, listed, "/http-instance")
    )

    assert listed.paths() == ["/http-instance/services/oauth2/token"]  # no call with the token
    page = response.content.decode()
    assert response.status_code == 200
    assert "is not https" in page and "Nothing was saved" in page
    assert not Connector.objects.exists()


def test_a_stored_connector_on_a_host_no_longer_listed_sends_nothing(sandbox_org, fake_login):
    connector = ConnectorFactory(
        login_url=fake_login.https_url + "/redirect",
        ca_bundle=fake_login.ca_pem,
        state=Connector.State.ACTIVE,
    )

    result = verify_connector(connector=connector)

    assert fake_login.received == []
    assert [line.kind for line in result.problems] == ["auth"]
    assert "is not a Salesforce login host" in result.problems[0].detail
    connector.refresh_from_db()
    assert connector.state == Connector.State.NEEDS_ATTENTION and not connector.may_sync


def test_the_django_admin_cannot_send_the_stored_secrets_elsewhere(admin_client):
    """The admin's connector form keeps the secrets (they are excluded from it): where they
    go is edited only on the connector page, which asks for them again."""
    connector = ConnectorFactory()
    page = admin_client.get(reverse("admin:sync_connector_change", args=[connector.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for name in ("login_url", "grant_type", "client_id"):
        assert f'name="{name}"' not in html
