"""OAuth 2.0 token endpoint and bearer-token sessions.

Grants: ``password`` (client id/secret + username/password), ``client_credentials`` (the
connected app's run-as user; id/secret in HTTP Basic or the form) and ``refresh_token`` (the
client secret required, as "Require Secret for Refresh Token Flow" does). A refresh token is
issued when the client asks for the ``refresh_token`` scope. Tokens expire after the org's idle
time and can be revoked.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F

from sandbox.errors import invalid_session
from sandbox.models import AccessToken, ConnectedApp, OrgUser
from sandbox.schema import Actor, actor_for
from sandbox.values import now

DB = "sandbox"
ITERATIONS = 20_000
TOUCH_EVERY = 30  # seconds between last_used_at writes


@dataclass
class OAuthError(Exception):
    error: str
    description: str
    status: int = 400

    def as_body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


def hash_password(raw: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", raw.encode(), salt.encode(), ITERATIONS).hex()
    return f"pbkdf2_sha256${ITERATIONS}${salt}${digest}"


def check_password(raw: str, stored: str) -> bool:
    try:
        _algo, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    mine = hashlib.pbkdf2_hmac("sha256", raw.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(mine, digest)


def _client(form: dict, authorization: str) -> tuple[ConnectedApp, bool]:
    """The connected app named by the request, and whether its secret was right."""
    client_id, secret = form.get("client_id", ""), form.get("client_secret")
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            pass
    app = ConnectedApp.objects.using(DB).select_related("org").filter(client_id=client_id).first()
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    return app, secret is not None and hmac.compare_digest(secret, app.client_secret)


def issue_token(*, form: dict, authorization: str, instance_url: str) -> dict:
    """Handle ``POST /services/oauth2/token``; raises ``OAuthError``."""
    grant = form.get("grant_type", "")
    if grant not in ("password", "client_credentials", "refresh_token"):
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    if grant == "refresh_token":
        return _refresh(form, authorization, instance_url)
    app, secret_ok = _client(form, authorization)
    if not secret_ok:
        raise OAuthError("invalid_client", "invalid client credentials")
    if grant == "client_credentials":
        user = app.run_as
        if user is None:
            raise OAuthError("invalid_grant", "no client credentials user enabled")
    else:
        user = _password_user(app, form)
    with_refresh = grant == "password" and "refresh_token" in form.get("scope", "").split()
    return _token_response(app, user, instance_url, with_refresh=with_refresh)


def _password_user(app: ConnectedApp, form: dict) -> OrgUser:
    user = (
        OrgUser.objects.using(DB)
        .filter(org_id=app.org_id, username=form.get("username", ""))
        .first()
    )
    if (
        user is None
        or not user.is_active
        or not check_password(form.get("password", ""), user.password)
    ):
        raise OAuthError("invalid_grant", "authentication failure")
    return user


def _refresh(form: dict, authorization: str, instance_url: str) -> dict:
    # The connected app requires its secret for the refresh-token flow (Salesforce's default).
    app, secret_ok = _client(form, authorization)
    if not secret_ok:
        raise OAuthError("invalid_client", "invalid client credentials")
    old = (
        AccessToken.objects.using(DB)
        .filter(refresh_token=form.get("refresh_token") or "-", app=app, revoked=False)
        .select_related("user")
        .first()
    )
    if old is None or not old.user.is_active:
        raise OAuthError("invalid_grant", "expired access/refresh token")
    return _token_response(app, old.user, instance_url, refresh=old.refresh_token)


def issue_session(user: OrgUser, app: ConnectedApp | None, refresh: str = "") -> str:
    """Store a new session for ``user`` and return its access token."""
    token = f"{user.org_id[:15]}!{secrets.token_urlsafe(72)}"
    moment = now()
    AccessToken.objects.using(DB).create(
        token=token,
        user=user,
        app=app,
        refresh_token=refresh,
        issued_at=moment,
        last_used_at=moment,
    )
    return token


def _token_response(
    app: ConnectedApp,
    user: OrgUser,
    instance_url: str,
    *,
    with_refresh: bool = False,
    refresh: str = "",
) -> dict:
    refresh = refresh or (secrets.token_urlsafe(64) if with_refresh else "")
    token = issue_session(user, app, refresh)
    identity = f"{instance_url}/id/{user.org_id}/{user.pk}"
    issued_at = str(int(time.time() * 1000))
    signature = base64.b64encode(
        hmac.new(
            app.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
    ).decode()
    body = {
        "access_token": token,
        "instance_url": instance_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature,
        "scope": "api refresh_token" if refresh else "api",
    }
    if refresh:
        body["refresh_token"] = refresh
    return body


def authenticate(authorization: str) -> Actor:
    """The actor behind a ``Bearer``/``OAuth`` header, or INVALID_SESSION_ID."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not token.strip():
        raise invalid_session()
    session = (
        AccessToken.objects.using(DB)
        .select_related("user__org")
        .filter(token=token.strip())
        .first()
    )
    if session is None or session.revoked or not session.user.is_active:
        raise invalid_session()
    moment = now()
    idle = (moment - session.last_used_at).total_seconds()
    if idle > session.user.org.session_idle_seconds:
        raise invalid_session()
    if idle > TOUCH_EVERY:
        AccessToken.objects.using(DB).filter(pk=session.pk).update(last_used_at=moment)
    return actor_for(session.user)


def revoke_sessions(user_id: str) -> int:
    """Revoke every session of a user (admin action)."""
    return AccessToken.objects.using(DB).filter(user_id=user_id).update(revoked=True)


def expire_sessions(user_id: str, seconds: int) -> int:
    """Age a user's sessions (tests: make idle expiry happen now)."""
    return (
        AccessToken.objects.using(DB)
        .filter(user_id=user_id)
        .update(last_used_at=F("last_used_at") - timedelta(seconds=seconds))
    )
