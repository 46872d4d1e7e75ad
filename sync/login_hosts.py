"""Where the connector may send its secrets: Salesforce's login hosts, and those listed.

Salesforce answers the OAuth token call on ``login.salesforce.com`` (production and Developer
Edition orgs), ``test.salesforce.com`` (sandboxes) and every org's My Domain, whose login hosts
all sit under ``my.salesforce.com`` (``acme.my.salesforce.com``,
``acme--uat.sandbox.my.salesforce.com``, ``acme-dev-ed.develop.my.salesforce.com``, …). Instance
hosts such as ``na1.salesforce.com`` are not login hosts (Salesforce advises against them).
Anything else — the sandbox org of the demo and the tests, a proxy — must be listed in
``SALESFORCE_LOGIN_HOSTS`` as ``host:port`` (``host`` alone means port 443).

The form refuses any other login URL, and the token call checks again before it sends
anything, so a connector whose host is no longer allowed stops instead of sending secrets.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings

SALESFORCE_LOGIN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})
MY_DOMAIN_SUFFIX = ".my.salesforce.com"
HTTPS_PORT = 443
# Letters, digits, dots and hyphens, or an IPv6 literal: nothing another URL parser could read
# as a different host.
HOSTNAME = re.compile(r"^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|[0-9a-f.]*:[0-9a-f:.]*)$")


def _host_port(url: str) -> tuple[str, int] | None:
    """(host, port) of a plain https URL; None for anything else (userinfo, query, fragment)."""
    try:
        parts = urlsplit(url)
        port = parts.port or HTTPS_PORT
    except ValueError:
        return None
    host = parts.hostname or ""
    plain = not (parts.username or parts.password or parts.query or parts.fragment)
    if parts.scheme != "https" or not plain or not HOSTNAME.match(host):
        return None
    return host, port


def _listed() -> set[tuple[str, int]]:
    found = set()
    for entry in settings.SALESFORCE_LOGIN_HOSTS:
        entry = entry.strip()
        parsed = _host_port(entry if "://" in entry else f"https://{entry}")
        if parsed:
            found.add(parsed)
    return found


def is_salesforce_host(host: str) -> bool:
    return host in SALESFORCE_LOGIN_HOSTS or host.endswith(MY_DOMAIN_SUFFIX)


def is_allowed_login_url(url: str) -> bool:
    """True when ``url`` is https on a Salesforce login host (port 443) or a listed host:port."""
    parsed = _host_port(url)
    if parsed is None:
        return False
    host, port = parsed
    return (port == HTTPS_PORT and is_salesforce_host(host)) or parsed in _listed()


def refusal(url: str) -> str:
    """Why ``url`` is refused, in words a Sync admin can act on."""
    parsed = _host_port(url)
    where = f"{parsed[0]}:{parsed[1]}" if parsed else url
    return (
        f"{where} is not a Salesforce login host. Use https://login.salesforce.com, "
        "https://test.salesforce.com or your org's My Domain (https://…my.salesforce.com); "
        "any other host must be listed in SALESFORCE_LOGIN_HOSTS."
    )


def login_host(url: str) -> str:
    """``host:port`` of a login URL, to tell whether two URLs reach the same host."""
    parsed = _host_port(url)
    return f"{parsed[0]}:{parsed[1]}" if parsed else url.strip().lower()
