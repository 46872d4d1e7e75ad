"""Every page × {anonymous, marketer, Sync admin} gives the expected redirect / 403 / 200."""

import pytest
from django.urls import reverse

from prospects.factories import ProspectFactory

MARKETER_PAGES = [
    "portal:dashboard",
    "prospects:list",
    "prospects:create",
    "sync:errors",
    "intake:imports",
]
ADMIN_PAGES = ["sync:connector", "sync:field_rules"]


@pytest.fixture
def prospect(db):
    return ProspectFactory()


def _urls(prospect):
    urls = [reverse(name) for name in MARKETER_PAGES]
    urls += [reverse("prospects:detail", args=[prospect.pk])]
    urls += [reverse("prospects:edit", args=[prospect.pk])]
    return urls


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login(client, prospect):
    for url in _urls(prospect) + [reverse(name) for name in ADMIN_PAGES]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


@pytest.mark.django_db
def test_marketer_sees_marketer_pages_and_gets_403_on_admin_pages(marketer_client, prospect):
    for url in _urls(prospect):
        assert marketer_client.get(url).status_code == 200, url
    for name in ADMIN_PAGES:
        assert marketer_client.get(reverse(name)).status_code == 403, name
    assert marketer_client.get(reverse("admin:index")).status_code == 403
    assert marketer_client.get("/admin/django-rq/").status_code == 403


@pytest.mark.django_db
def test_sync_admin_sees_every_page(admin_client_, prospect):
    for url in _urls(prospect) + [reverse(name) for name in ADMIN_PAGES]:
        assert admin_client_.get(url).status_code == 200, url
    assert admin_client_.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_user_without_a_role_gets_403(client):
    from prospects.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("prospects:list")).status_code == 403


@pytest.mark.django_db
def test_marketer_nav_hides_admin_pages(marketer_client):
    html = marketer_client.get(reverse("portal:dashboard")).content.decode()
    assert "Prospects" in html and "Sync Errors" in html
    assert reverse("sync:connector") not in html


@pytest.mark.django_db
def test_login_and_logout_round_trip(client):
    from portal.demo import load_demo_users

    load_demo_users()
    response = client.post(
        reverse("login"), {"username": "marketer", "password": "leadbridge-marketer"}
    )
    assert response.status_code == 302
    assert client.get(reverse("prospects:list")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("prospects:list")).status_code == 302


@pytest.mark.django_db
def test_wrong_password_is_refused(client):
    from portal.demo import load_demo_users

    load_demo_users()
    response = client.post(reverse("login"), {"username": "marketer", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
