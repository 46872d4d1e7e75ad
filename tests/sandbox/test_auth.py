"""OAuth token endpoint, bearer sessions, identity URL."""

import base64
from urllib.parse import urlencode

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession


def _post_token(sandbox_org, **data):
    return sandbox_org.session().post(f"{sandbox_org.login_url}/services/oauth2/token", data=data)


def test_password_grant_returns_salesforce_token_fields(sandbox_org):
    body = sandbox_org.token()
    assert set(body) >= {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == sandbox_org.instance_url
    org_id, user_id = body["id"].split("/")[-2:]
    assert org_id.startswith("00D") and user_id.startswith("005")
    assert len(body["issued_at"]) == 13
    assert "refresh_token" not in body


def test_client_credentials_grant_with_basic_auth_runs_as_the_connector(sandbox_org):
    basic = base64.b64encode(f"{sandbox_org.client_id}:{sandbox_org.client_secret}".encode())
    response = sandbox_org.session().post(
        f"{sandbox_org.login_url}/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert response.status_code == 200
    sf = Salesforce(
        instance_url=response.json()["instance_url"],
        session_id=response.json()["access_token"],
        session=sandbox_org.session(),
    )
    me = sf.query(f"SELECT Username FROM User WHERE Id = '{response.json()['id'].split('/')[-1]}'")
    assert me["records"][0]["Username"] == sandbox_org.username


def test_refresh_token_grant_issues_a_new_access_token(sandbox_org):
    first = sandbox_org.token(scope="api refresh_token")
    assert first["refresh_token"]
    response = _post_token(
        sandbox_org,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id=sandbox_org.client_id,
        client_secret=sandbox_org.client_secret,
    )
    assert response.status_code == 200
    assert response.json()["access_token"] != first["access_token"]


@pytest.mark.parametrize("secret", ["wrong", None])
def test_refresh_token_grant_needs_the_client_secret(sandbox_org, secret):
    first = sandbox_org.token(scope="api refresh_token")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": sandbox_org.client_id,
    }
    if secret is not None:
        form["client_secret"] = secret
    response = _post_token(sandbox_org, **form)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "invalid client credentials",
    }


def test_a_chunked_token_request_is_read_like_one_with_a_length(sandbox_org):
    """Node clients (jsforce) send the form with Transfer-Encoding: chunked, no Content-Length."""
    form = urlencode(
        {
            "grant_type": "password",
            "client_id": sandbox_org.client_id,
            "client_secret": sandbox_org.client_secret,
            "username": sandbox_org.username,
            "password": sandbox_org.password,
        }
    ).encode()
    response = sandbox_org.session().post(
        f"{sandbox_org.login_url}/services/oauth2/token",
        data=iter([form[:25], form[25:]]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.request.headers
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]


@pytest.mark.parametrize(
    ("data", "error", "description"),
    [
        ({"client_id": "nope"}, "invalid_client_id", "client identifier invalid"),
        ({"client_secret": "wrong"}, "invalid_client", "invalid client credentials"),
        ({"password": "wrong"}, "invalid_grant", "authentication failure"),
        ({"username": "nobody@acme.example"}, "invalid_grant", "authentication failure"),
        ({"grant_type": "magic"}, "unsupported_grant_type", "grant type not supported"),
    ],
)
def test_token_failures_use_oauth_error_bodies(sandbox_org, data, error, description):
    form = {
        "grant_type": "password",
        "client_id": sandbox_org.client_id,
        "client_secret": sandbox_org.client_secret,
        "username": sandbox_org.username,
        "password": sandbox_org.password,
        **data,
    }
    response = _post_token(sandbox_org, **form)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_a_bad_token_gets_invalid_session_id_and_simple_salesforce_raises_expired(sandbox_org):
    sf = Salesforce(
        instance_url=sandbox_org.instance_url,
        session_id="00Dbogus!token",
        session=sandbox_org.session(),
    )
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert caught.value.status == 401
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_missing_authorization_header_is_401(sandbox_org):
    response = sandbox_org.session().get(f"{sandbox_org.instance_url}/services/data/v59.0/limits")
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_revoked_and_idle_sessions_expire(sandbox_org):
    user = "alice@acme.example"
    sf = sandbox_org.salesforce(user, "sales-demo-1", fresh=True)
    sf.query("SELECT Id FROM Lead LIMIT 1")
    sandbox_org.control("age_sessions", username=user, seconds=3 * 3600)
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Lead LIMIT 1")
    sf = sandbox_org.salesforce(user, "sales-demo-1", fresh=True)
    sandbox_org.control("revoke_sessions", username=user)
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Lead LIMIT 1")


def test_oauth_header_scheme_and_identity_url(sandbox_org):
    body = sandbox_org.token()
    session = sandbox_org.session()
    response = session.get(body["id"], headers={"Authorization": f"OAuth {body['access_token']}"})
    assert response.status_code == 200
    identity = response.json()
    assert identity["username"] == sandbox_org.username
    assert body["id"].endswith(f"/{identity['organization_id']}/{identity['user_id']}")


def test_soap_login_as_simple_salesforce_parses_it(sandbox_org):
    from simple_salesforce.login import SalesforceLogin

    session_id, instance = SalesforceLogin(
        username=sandbox_org.username,
        password=sandbox_org.password,
        security_token="",
        session=sandbox_org.session(),
        scratch_url=sandbox_org.instance_url,
    )
    assert instance == sandbox_org.host
    sf = Salesforce(
        instance_url=sandbox_org.instance_url, session_id=session_id, session=sandbox_org.session()
    )
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > 0


def test_soap_login_failure_is_a_fault(sandbox_org):
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed
    from simple_salesforce.login import SalesforceLogin

    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        SalesforceLogin(
            username=sandbox_org.username,
            password="wrong",
            security_token="",
            session=sandbox_org.session(),
            scratch_url=sandbox_org.instance_url,
        )
    assert caught.value.code == "INVALID_LOGIN"
