import itertools
import time

import pytest

_counter = itertools.count()


@pytest.fixture(scope="module")
def sf(sandbox_org):
    """simple-salesforce as the connector user."""
    return sandbox_org.salesforce()


@pytest.fixture
def unique() -> str:
    """A value no other test uses (emails, external ids)."""
    return f"{int(time.time() * 1000)}{next(_counter)}"
