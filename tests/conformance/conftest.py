import os

import pytest

from tests.conformance.clients import Jsforce, SimpleSalesforce, jsforce_missing

_skipped: list[str] = []


@pytest.fixture(params=[SimpleSalesforce, Jsforce], ids=lambda c: c.name)
def client(request, sandbox_org):
    """Each conformance test runs once per client: simple-salesforce, then jsforce."""
    if request.param is Jsforce and (missing := jsforce_missing()):
        if os.environ.get("CI") == "true":
            pytest.fail(f"jsforce conformance tests need Node.js and npm under CI: {missing}")
        _skipped.append(missing)
        pytest.skip(f"jsforce conformance tests skipped: {missing}")
    return request.param(sandbox_org)


def pytest_terminal_summary(terminalreporter) -> None:
    if _skipped:
        terminalreporter.write_line(
            f"jsforce conformance tests skipped ({len(_skipped)}): {_skipped[0]}"
        )
