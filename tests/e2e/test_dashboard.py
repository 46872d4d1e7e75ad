"""The Sync health dashboard in a real browser: Chart.js draws both charts, and an htmx refresh
updates them in place (the same chart objects, new figures)."""

import datetime as dt

import pytest
from django.utils import timezone

from operations.metrics import minute_of
from operations.models import MetricMinute
from prospects.factories import UserFactory
from tests.conftest import ensure_roles
from tests.e2e.conftest import SHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in_as_sync_admin(page, live_server) -> None:
    from django.contrib.auth.models import Group

    ensure_roles()
    user = UserFactory(username="admin-e2e")
    user.groups.add(Group.objects.get(name="Sync admin"))
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/login/**")
    page.fill("input[name=username]", "admin-e2e")
    page.fill("input[name=password]", "leadbridge-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_the_charts_draw_and_refresh_in_place(browser_page, live_server):
    page = browser_page
    now = minute_of(timezone.now())
    MetricMinute.objects.bulk_create(
        MetricMinute(
            minute=now - dt.timedelta(minutes=i),
            pushed=40 + i % 7,
            pulled=10 + i % 3,
            errors={"data_formatting": 1} if i % 10 == 0 else {},
        )
        for i in range(55)
    )
    log_in_as_sync_admin(page, live_server)
    page.click("text=1 h")
    page.wait_for_function("Chart.getChart('chart-throughput') && Chart.getChart('chart-errors')")
    pushed = page.evaluate("Chart.getChart('chart-throughput').data.datasets[0].data")
    assert len(pushed) == 60 and sum(pushed) > 0
    page.evaluate("window.firstChart = Chart.getChart('chart-throughput')")

    MetricMinute.objects.filter(minute=now - dt.timedelta(minutes=1)).update(pushed=999)
    page.evaluate(
        "htmx.ajax('GET', document.getElementById('health-panels').getAttribute('hx-get'),"
        " {target: '#health-panels', swap: 'innerHTML'})"
    )
    page.wait_for_function(
        "Chart.getChart('chart-throughput').data.datasets[0].data.at(-1) === 999"
    )
    assert page.evaluate("window.firstChart === Chart.getChart('chart-throughput')")
    page.screenshot(path=SHOTS / "dashboard.png", full_page=True)
