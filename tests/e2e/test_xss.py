"""The XSS corpus in real Chromium: no page of the portal runs a payload.

Every page of tests/fixtures/xss_corpus.py's audit is opened in headless Chromium after the
payloads were stored; dialogs (``alert``, ``confirm``, ``prompt``) are counted on every tab, the
live DOM is audited once scripts (htmx, Bootstrap) ran, and every link that is not an http(s)
or mailto address is clicked, as a curious marketer would.
"""

from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from prospects.factories import UserFactory
from tests.conftest import ensure_roles
from tests.e2e.conftest import SHOTS
from tests.fixtures.xss_corpus import DATA_ATTRIBUTES, DOM_AUDIT_JS, MARK, page_urls, seed_corpus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PER_PAGE_NAME = 2  # pages opened per URL name (every prospect page: each has its own website)
# Flags the links Chromium parsed to another scheme than http(s)/mailto, to click them.
FLAG_UNSAFE_LINKS_JS = """
() => [...document.querySelectorAll("a[href]")]
  .filter((link) => !["http:", "https:", "mailto:"].includes(link.protocol))
  .map((link) => link.setAttribute("data-unsafe-link", "")).length
"""


def browser_pages(corpus, user) -> list[str]:
    """The audit's HTML pages (not the POST-only ones), a few per URL name."""
    client = Client()
    client.force_login(user)
    seen: Counter = Counter()
    pages = []
    for name, path in page_urls(corpus):
        seen[name] += 1
        if name != "prospects:detail" and seen[name] > PER_PAGE_NAME:
            continue
        response = client.get(path)
        if response.status_code == 200 and "text/html" in response["Content-Type"]:
            pages.append(path)
    return pages


def auditor():
    ensure_roles()
    user = UserFactory(username="xss-auditor", is_staff=True, is_superuser=True)
    user.groups.add(Group.objects.get(name="Sync admin"))
    return user


def log_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "xss-auditor")
    page.fill("input[name=password]", "leadbridge-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_no_payload_runs_or_injects_markup_in_chromium(browser_page, live_server, connector):
    page = browser_page
    corpus = seed_corpus(connector)
    dialogs: list[str] = []

    def count_dialogs(tab) -> None:
        tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    count_dialogs(page)
    page.context.on("page", count_dialogs)  # tabs a target=_blank link opens
    pages = browser_pages(corpus, auditor())
    log_in(page, live_server)
    findings: dict[str, list[str]] = {}
    for path in pages:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")  # image errors and htmx "load" triggers done
        found = page.evaluate(DOM_AUDIT_JS, [MARK, sorted(DATA_ATTRIBUTES)])
        if page.evaluate(FLAG_UNSAFE_LINKS_JS):
            page.locator("[data-unsafe-link]").first.dispatch_event("click")
            page.wait_for_load_state("networkidle")
        if found:
            findings[path] = found
    page.goto(live_server.url + corpus.prospects[0].get_absolute_url())
    page.screenshot(path=SHOTS / "xss-prospect.png", full_page=True)
    report = "\n".join(f"{path}: {found}" for path, found in findings.items())
    assert (dialogs, report) == ([], "")
