"""Production settings: ``check --deploy`` is clean, and the security settings come from the
environment (issue 11, item 9). Each case starts a fresh Django in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "q8Vd2nZp-Lr5xWc9Tb3Hs7Gk1Mf4Yj6Ue0Ai8Oo2Pl5Nq7Rs9Tu1Vw3Xy5Za7Bc9",
    "FIELD_ENCRYPTION_KEY": "Vg3pS3dE8bS3oV9mQyJ0l2xj4m3cD0cW4Y1y2hN6e8Q=",
    "ALLOWED_HOSTS": "leadbridge.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://leadbridge.example.com",
    "DATABASE_URL": "postgres://leadbridge:secret@db.example.com:5432/leadbridge",
    "REDIS_URL": "redis://redis.example.com:6379/0",
}
SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_REDIRECT_EXEMPT",
    "SESSION_COOKIE_AGE",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_TIME",
    "INSTALLED_APPS",
]
DUMP = (
    "import django, json; django.setup(); from django.conf import settings; "
    f"print(json.dumps({{name: getattr(settings, name) for name in {SETTINGS!r}}}, default=str))"
)


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE is a test-only setting (check --deploy says so).
    local = {*PRODUCTION, "SANDBOX_ENABLED", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in local}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings(**env: str) -> dict:
    result = _run(["-c", DUMP], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_is_clean_under_production_settings():
    """The README's deployment variables, behind a TLS proxy."""
    behind_proxy = {"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto", "TRUSTED_PROXY_COUNT": "1"}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **behind_proxy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_are_the_safe_ones():
    values = _settings()
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_AGE"] == 60 * 60
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SECURE_REDIRECT_EXEMPT"] == [r"^health/$"]  # load balancers probe over http
    assert "sandbox" not in values["INSTALLED_APPS"]


def test_the_security_settings_come_from_the_environment():
    values = _settings(
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_PRELOAD="false",
        SESSION_IDLE_MINUTES="15",
        LOGIN_FAILURE_LIMIT="3",
        LOGIN_LOCKOUT_MINUTES="45",
    )
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SESSION_COOKIE_AGE"] == 15 * 60
    assert values["AXES_FAILURE_LIMIT"] == 3
    assert values["AXES_COOLOFF_TIME"] == "0:45:00"


def test_the_sandbox_is_installed_only_when_enabled():
    assert "sandbox" in _settings(SANDBOX_ENABLED="true")["INSTALLED_APPS"]
    assert "sandbox" in _settings(DEBUG="true")["INSTALLED_APPS"]  # make run / make test
    assert "sandbox" not in _settings(DEBUG="true", SANDBOX_ENABLED="false")["INSTALLED_APPS"]


def test_without_the_sandbox_every_app_loads_and_checks_clean():
    script = (
        "import sys, django; django.setup(); from django.urls import get_resolver; "
        "get_resolver().url_patterns; import portal.cron; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sandbox'))"
    )
    loaded = _run(["-c", script])
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"
    check = _run(["manage.py", "check"])
    assert check.returncode == 0, check.stderr
