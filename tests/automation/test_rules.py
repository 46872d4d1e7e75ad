"""Automation rules: preview, run once, repeat on change, pause on a vanished field, and the
loop guard with two rules fighting over one field."""

import pytest
from django.utils import timezone

from automation.models import Rule, RuleRun
from automation.rules import preview, run_repeating, run_rule
from prospects.factories import ProspectFactory
from prospects.models import CrmQueue, CustomField, Prospect, SyncQueueItem, SyncReason
from tests.crm.factories import SalesforceCampaignFactory

pytestmark = pytest.mark.django_db

GERMANS_50 = {
    "match": "all",
    "conditions": [
        {"field": "score", "op": "gte", "value": 50},
        {"field": "country", "op": "eq", "value": "Germany"},
    ],
}


@pytest.fixture
def queue(db):
    return CrmQueue.objects.create(sf_id="00G000000000001AAA", name="EMEA leads")


def test_preview_counts_and_samples_twenty_and_flags_everyone():
    ProspectFactory.create_batch(25, score=60, country="Germany")
    ProspectFactory(score=10, country="Germany")
    result = preview(GERMANS_50)
    assert (result.count, len(result.sample), result.total) == (25, 20, 26)
    assert not result.matches_everyone
    assert preview({}).matches_everyone


def test_a_run_once_rule_acts_on_every_match_logs_the_run_and_queues_syncs(queue):
    hot = ProspectFactory.create_batch(3, score=60, country="Germany")
    cold = ProspectFactory(score=10, country="Germany")
    SyncQueueItem.objects.all().delete()
    rule = Rule.objects.create(
        name="EMEA",
        criteria=GERMANS_50,
        actions=[{"type": "assign_queue", "queue": queue.pk}],
        state=Rule.State.ACTIVE,
    )
    run = run_rule(rule)
    assert (run.matched, run.changed, run.failed) == (3, 3, 0)
    assert set(Prospect.objects.filter(assigned_queue=queue).values_list("pk", flat=True)) == {
        p.pk for p in hot
    }
    assert not Prospect.objects.get(pk=cold.pk).assigned_queue
    queued = SyncQueueItem.objects.filter(prospect__in=hot)
    assert queued.count() == 3 and {q.reason for q in queued} == {SyncReason.AUTOMATION_RULE}
    rule.refresh_from_db()
    assert rule.state == Rule.State.DONE and rule.last_run_at


def test_a_repeat_rule_acts_again_only_on_prospects_changed_since(queue):
    first = ProspectFactory(score=60, country="Germany")
    rule = Rule.objects.create(
        name="Tag",
        criteria=GERMANS_50,
        mode=Rule.Mode.REPEAT,
        state=Rule.State.ACTIVE,
        actions=[{"type": "adjust_score", "points": 1}],
    )
    assert run_rule(rule).changed == 1
    # Seen again (the watermark's overlap), not changed since by anyone else: left alone.
    again = run_rule(rule)
    assert (again.changed, again.skipped) == (0, 0)
    assert Prospect.objects.get(pk=first.pk).score == 61
    # A person edits the prospect: a new outside change, the rule acts once more.
    p = Prospect.objects.get(pk=first.pk)
    p.city = "Berlin"
    p.save()
    newcomer = ProspectFactory(score=55, country="Germany")
    third = run_rule(rule)
    assert third.changed == 2
    assert Prospect.objects.get(pk=first.pk).score == 62
    assert Prospect.objects.get(pk=newcomer.pk).score == 56


def test_two_rules_fighting_over_one_field_stop_and_say_so():
    ProspectFactory(industry="Retail")
    to_tech = Rule.objects.create(
        name="Retail to Tech",
        mode=Rule.Mode.REPEAT,
        state=Rule.State.ACTIVE,
        criteria={
            "match": "all",
            "conditions": [{"field": "industry", "op": "eq", "value": "Retail"}],
        },
        actions=[{"type": "set_field", "field": "industry", "value": "Tech"}],
    )
    to_retail = Rule.objects.create(
        name="Tech to Retail",
        mode=Rule.Mode.REPEAT,
        state=Rule.State.ACTIVE,
        criteria={
            "match": "all",
            "conditions": [{"field": "industry", "op": "eq", "value": "Tech"}],
        },
        actions=[{"type": "set_field", "field": "industry", "value": "Retail"}],
    )
    for _ in range(5):  # five cron minutes
        run_repeating()
    changes = {
        r.pk: sum(RuleRun.objects.filter(rule=r).values_list("changed", flat=True))
        for r in (to_tech, to_retail)
    }
    # Each acted once for the one outside change (the create); then the guard held them.
    assert changes == {to_tech.pk: 1, to_retail.pk: 1}
    assert Prospect.objects.get().industry == "Retail"  # the last rule to act keeps its value
    held = RuleRun.objects.filter(rule=to_tech, skipped=1).first()
    assert held is not None
    assert "Loop guard" in held.message and "“Tech to Retail”" in held.message
    # A person changes the prospect: one more round, and again it stops.
    prospect = Prospect.objects.get()
    prospect.city = "Paris"
    prospect.save()
    for _ in range(4):
        run_repeating()
    changes = {
        r.pk: sum(RuleRun.objects.filter(rule=r).values_list("changed", flat=True))
        for r in (to_tech, to_retail)
    }
    assert changes == {to_tech.pk: 2, to_retail.pk: 2}


def test_a_rule_whose_custom_field_was_deleted_pauses_with_a_message():
    field = CustomField.objects.create(label="Tier", api_name="tier")
    ProspectFactory(custom_fields={"tier": "Gold"})
    rule = Rule.objects.create(
        name="Gold",
        mode=Rule.Mode.REPEAT,
        state=Rule.State.ACTIVE,
        criteria={
            "match": "all",
            "conditions": [{"field": "custom:tier", "op": "eq", "value": "Gold"}],
        },
        actions=[{"type": "adjust_score", "points": 5}],
    )
    field.delete()
    run = run_rule(rule, trigger="schedule")
    rule.refresh_from_db()
    assert rule.state == Rule.State.PAUSED
    assert run.message == rule.problem == 'Paused: The custom field "tier" no longer exists.'
    assert run_repeating() == []  # paused rules do not run


def test_a_rule_whose_salesforce_campaign_was_deleted_pauses_with_a_message():
    campaign = SalesforceCampaignFactory()
    ProspectFactory(score=60, country="Germany")
    rule = Rule.objects.create(
        name="Campaign",
        criteria=GERMANS_50,
        state=Rule.State.ACTIVE,
        actions=[{"type": "add_to_sf_campaign", "campaign": campaign.pk, "status": "Sent"}],
    )
    campaign.deleted_at = timezone.now()
    campaign.save()
    run = run_rule(rule)
    rule.refresh_from_db()
    assert rule.state == Rule.State.PAUSED and run.changed == 0
    assert run.message == rule.problem
    assert "was deleted in Salesforce; prospects cannot be added to it" in run.message


def test_the_cron_runs_lists_and_rules_every_minute():
    import django_rq
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=django_rq.get_connection("default"))
    scheduler.load_config_from_file("portal.cron")
    jobs = {job.func_name: job for job in scheduler.get_jobs()}
    assert jobs["automation.jobs.tick"].interval == 60


def test_switching_on_runs_the_rule_on_a_worker(
    run_jobs, queue, django_capture_on_commit_callbacks
):
    from automation.jobs import enqueue_run

    ProspectFactory(score=60, country="Germany")
    rule = Rule.objects.create(
        name="Now",
        criteria=GERMANS_50,
        state=Rule.State.ACTIVE,
        actions=[{"type": "assign_queue", "queue": queue.pk}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_run(rule, trigger="switched on")
    run_jobs("default")
    assert RuleRun.objects.get(rule=rule).trigger == "switched on"
    assert Prospect.objects.get().assigned_queue == queue
