"""EMAIL_URL becomes Django's MAILERS; a bad one stops start-up naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from operations.models import Incident
from sync.models import Connector

ROOT = Path(__file__).resolve().parents[2]


def _mailers(**env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    full.update(DEBUG="true", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from django.conf import settings; print(settings.MAILERS['default'])"],
        cwd=ROOT, env=full, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_an_smtp_url_gives_host_port_credentials_and_tls():
    result = _mailers(EMAIL_URL="smtp+tls://alerts%40acme.example:s3cret@mail.acme.example:587")
    assert result.returncode == 0, result.stderr
    assert "'host': 'mail.acme.example', 'port': 587" in result.stdout
    assert "'username': 'alerts@acme.example', 'password': 's3cret'" in result.stdout
    assert "'use_tls': True" in result.stdout and "smtp.EmailBackend" in result.stdout


def test_without_a_url_debug_prints_mail_to_the_console():
    result = _mailers()
    assert "console.EmailBackend" in result.stdout, result.stderr


@pytest.mark.parametrize("url", ["nonsense", "ftp://mail.example"])
def test_a_bad_url_stops_start_up_naming_the_variable(url):
    result = _mailers(EMAIL_URL=url)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("Leadbridge cannot start: EMAIL_URL")
    assert "s3cret" not in result.stderr


@pytest.mark.django_db
def test_the_watchdog_command_evaluates_once_and_says_what_changed(capsys, mailoutbox):
    Connector.objects.create(
        login_url="https://127.0.0.1:1",
        client_id="x",
        state=Connector.State.ACTIVE,
        api_max=100,
        api_remaining=0,
    )
    call_command("checkoperations")
    assert "1 incidents opened, 0 resolved" in capsys.readouterr().out
    assert Incident.objects.get().opened_at <= timezone.now()
