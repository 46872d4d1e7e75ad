"""Property: whatever interleaving of edits on both sides, pushes, pulls and dead workers,
once the connector has quiesced both sides agree as the field rules say, nothing is duplicated
and no change is lost."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect
from sync.engine import queue
from sync.engine.inbound import pull_changes
from sync.jobs import push_pending
from sync.models import FieldRule, SyncCursor, SyncQueueItem, SyncReason
from sync.triggers import request_sync

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
# job_title: Leadbridge wins (Title); city: Salesforce wins (City).
OURS, THEIRS = ("job_title", "Title"), ("city", "City")


def run_machine(connector, sf, owner, django_settings):
    class Sync(RuleBasedStateMachine):
        @initialize()
        def start(self):
            domain = f"conv-{uuid.uuid4().hex[:8]}.example"
            self.prospects = []
            for i in range(2):
                prospect = ProspectFactory(
                    email=f"p{i}@{domain}", assigned_user=owner, job_title="start", city="Boston"
                )
                self.prospects.append(prospect.pk)
            self.expected = {pk: {"job_title": "start", "city": "Boston"} for pk in self.prospects}
            for pk in self.prospects:
                request_sync(Prospect.objects.get(pk=pk), SyncReason.INITIAL_SYNC)
            self.quiesce()
            self.lead = {pk: Prospect.objects.get(pk=pk).crm_lead_id for pk in self.prospects}
            self.domain = domain

        def quiesce(self):
            """What the cron does until there is nothing left: expired claims are retaken."""
            django_settings.SYNC_CLAIM_TIMEOUT = 0
            for _ in range(3):
                push_pending(connector.pk)
                SyncCursor.objects.filter(connector=connector).update(
                    watermark=timezone.now() - dt.timedelta(seconds=30)
                )
                pull_changes(connector=connector)
            push_pending(connector.pk)
            django_settings.SYNC_CLAIM_TIMEOUT = 300

        @rule(index=st.integers(0, 1), value=WORDS, field=st.sampled_from([OURS, THEIRS]))
        def edit_in_leadbridge(self, index, value, field):
            pk = self.prospects[index]
            prospect = Prospect.objects.get(pk=pk)
            setattr(prospect, field[0], value)
            prospect.stamp_changes([field[0]])
            prospect.save()
            request_sync(prospect, SyncReason.FIELD_UPDATE)
            if field == OURS:
                self.expected[pk]["job_title"] = value

        @rule(index=st.integers(0, 1), value=WORDS, field=st.sampled_from([OURS, THEIRS]))
        def edit_in_salesforce(self, index, value, field):
            pk = self.prospects[index]
            sf.Lead.update(self.lead[pk], {field[1]: value})
            if field == THEIRS:
                self.expected[pk]["city"] = value

        @rule()
        def push(self):
            push_pending(connector.pk)

        @rule()
        def pull(self):
            SyncCursor.objects.filter(connector=connector).update(
                watermark=timezone.now() - dt.timedelta(seconds=30)
            )
            pull_changes(connector=connector)

        @rule()
        def worker_dies_holding_a_claim(self):
            queue.claim_batch(limit=200, worker="dead-worker")

        @rule(index=st.integers(0, 1), value=WORDS)
        def edit_while_a_push_is_in_flight(self, index, value):
            pk = self.prospects[index]
            prospect = Prospect.objects.get(pk=pk)
            request_sync(prospect, SyncReason.MANUAL)
            django_settings.SYNC_CLAIM_TIMEOUT = 0  # take it even if a dead worker held it
            claims = queue.claim_batch(limit=200, worker="slow-worker")
            django_settings.SYNC_CLAIM_TIMEOUT = 300
            assert pk in {c.prospect_id for c in claims}
            prospect.job_title = value
            prospect.stamp_changes(["job_title"])
            prospect.save()
            request_sync(prospect, SyncReason.FIELD_UPDATE)
            self.expected[pk]["job_title"] = value
            queue.settle_done(claims)  # the slow push finishes with the old generation
            # The edit is still pending: nothing waits for a pull to notice it.
            assert SyncQueueItem.objects.filter(prospect_id=pk, claimed_at=None).exists()

        @invariant()
        def never_duplicated(self):
            if hasattr(self, "domain"):
                leads = sf.query(f"SELECT Id FROM Lead WHERE Email LIKE '%@{self.domain}'")
                assert leads["totalSize"] == len(self.prospects)

        def teardown(self):
            if not hasattr(self, "prospects"):
                return
            self.quiesce()
            for pk in self.prospects:
                prospect = Prospect.objects.get(pk=pk)
                lead = sf.Lead.get(self.lead[pk])
                want = self.expected[pk]
                assert prospect.crm_lead_id == self.lead[pk]
                assert prospect.job_title == lead["Title"] == want["job_title"]
                assert prospect.city == lead["City"] == want["city"]

    run_state_machine_as_test(
        Sync,
        settings=settings(
            max_examples=6,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )


@pytest.mark.django_db
def test_both_sides_converge_as_the_rules_say(connector, sandbox_org, settings):
    FieldRule.objects.filter(connector=connector, prospect_field="job_title").update(
        behaviour=FieldRule.Behaviour.LEADBRIDGE
    )
    FieldRule.objects.filter(connector=connector, prospect_field="city").update(
        behaviour=FieldRule.Behaviour.SALESFORCE
    )
    owner = UserFactory(username="alice", email="alice@acme.example")
    run_machine(connector, sandbox_org.admin(), owner, settings)
