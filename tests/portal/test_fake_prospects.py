"""``manage.py makeprospects``: many realistic prospects, fast, for scale tests."""

import pytest
from django.core.management import CommandError, call_command

from portal.fake_prospects import make_prospects
from prospects.factories import UserFactory
from prospects.models import Prospect, SyncQueueItem, SyncStatus


@pytest.mark.django_db
def test_it_creates_complete_distinct_prospects_and_queues_them():
    rep = UserFactory(username="rep")
    ids = make_prospects(250, owners=[rep], sync=True)
    assert len(ids) == 250
    prospects = Prospect.objects.filter(pk__in=ids)
    assert prospects.values("email").distinct().count() == 250
    assert prospects.values("sync_key").distinct().count() == 250
    assert not prospects.exclude(assigned_user=rep).exists()
    assert not prospects.filter(last_name="").exists()
    assert not prospects.filter(company="").exists()
    assert set(prospects.values_list("sync_status", flat=True)) == {SyncStatus.PENDING}
    assert SyncQueueItem.objects.filter(prospect_id__in=ids).count() == 250
    one = prospects.first()
    assert one.custom_fields == {} and one.crm_modified_at is None and one.score >= 0


@pytest.mark.django_db
def test_the_same_seed_makes_the_same_people_under_another_domain():
    first = make_prospects(20, domain="a.example", seed=7)
    second = make_prospects(20, domain="b.example", seed=7)
    names = [
        list(Prospect.objects.filter(pk__in=ids).order_by("pk").values_list("last_name", "company"))
        for ids in (first, second)
    ]
    assert names[0] == names[1]


@pytest.mark.django_db
def test_the_command_assigns_to_a_user_and_refuses_bad_input(settings, capsys):
    settings.DEBUG = True
    UserFactory(username="ana")
    call_command("makeprospects", "30", "--owner", "ana")
    assert Prospect.objects.filter(assigned_user__username="ana").count() == 30
    assert "30 prospects created" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("makeprospects", "5", "--owner", "nobody")
    with pytest.raises(CommandError, match="No CRM queue named"):
        call_command("makeprospects", "5", "--queue", "Nope")
    with pytest.raises(CommandError, match="above 0"):
        call_command("makeprospects", "0")


@pytest.mark.django_db
def test_the_command_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("makeprospects", "10")
    assert not Prospect.objects.exists()
