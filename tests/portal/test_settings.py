"""Start-up refuses bad configuration with one line naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.keyfiles import local_secret

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "q8Vd2nZp-Lr5xWc9Tb3Hs7Gk1Mf4Yj6Ue0Ai8Oo2Pl5Nq7Rs9Tu1Vw3Xy5Za7Bc9"
FERNET_KEY = "Vg3pS3dE8bS3oV9mQyJ0l2xj4m3cD0cW4Y1y2hN6e8Q="


def _check(**env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "postgres//missing-colon"}, "DATABASE_URL"),
        ({"DATABASE_URL": "nosuchdb://x/y"}, "DATABASE_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "false"}, "SECRET_KEY"),
        ({"SYNC_CLAIM_TIMEOUT": "five minutes"}, "SYNC_CLAIM_TIMEOUT"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE"),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"}, "SECURE_PROXY_SSL_HEADER"),
    ],
)
def test_bad_environment_stops_start_up_naming_the_variable(env, variable):
    result = _check(**env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[-1]] and lines[-1].startswith(f"Leadbridge cannot start: {variable}")


def test_production_starts_with_its_secrets_set():
    result = _check(DEBUG="false", SECRET_KEY=STRONG_KEY, FIELD_ENCRYPTION_KEY=FERNET_KEY)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "secret_key",
    ["x" * 50, "short-but-varied-0123456789", "django-insecure-" + STRONG_KEY],
    ids=["one-character", "under-50", "django-insecure"],
)
def test_a_weak_secret_key_stops_production_start_up(secret_key):
    result = _check(DEBUG="false", SECRET_KEY=secret_key, FIELD_ENCRYPTION_KEY=FERNET_KEY)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Leadbridge cannot start: SECRET_KEY")
    assert secret_key not in lines[0]  # never echo a secret


@pytest.mark.parametrize("debug", ["true", "false"])
@pytest.mark.parametrize("key", ["not-a-fernet-key", FERNET_KEY + ",short"], ids=["bad", "2nd-bad"])
def test_a_malformed_field_encryption_key_stops_start_up(debug, key):
    result = _check(DEBUG=debug, SECRET_KEY=STRONG_KEY, FIELD_ENCRYPTION_KEY=key)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Leadbridge cannot start: FIELD_ENCRYPTION_KEY")
    assert key not in lines[0]


def test_key_files_are_private_from_their_creation(tmp_path, monkeypatch):
    """Mode 0600 comes with the file itself: a chmod afterwards would leave a window."""

    def no_chmod(*args, **kwargs):
        raise AssertionError("chmod after creation: the file was readable for a moment")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    old_umask = os.umask(0o022)
    try:
        assert local_secret(tmp_path / "secret_key", lambda: "s3cret") == "s3cret"
    finally:
        os.umask(old_umask)
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_two_processes_creating_a_key_at_once_agree_on_one(tmp_path):
    """The other process wins while this one generates: both keep the winner's key."""
    path = tmp_path / "field_encryption_key"

    def make_while_another_process_writes() -> str:
        path.write_text("theirs")
        return "ours"

    assert local_secret(path, make_while_another_process_writes) == "theirs"
    assert path.read_text() == "theirs"
