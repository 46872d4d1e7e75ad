"""The list and rule pages, through the front door as a marketer."""

import json

import pytest
from django.urls import reverse

from automation.lists import add_members
from automation.models import ProspectList, Rule
from prospects.factories import ProspectFactory
from prospects.models import CrmQueue, Prospect

pytestmark = pytest.mark.django_db

GERMANS_50 = {
    "match": "all",
    "conditions": [
        {"field": "score", "op": "gte", "value": 50},
        {"field": "country", "op": "eq", "value": "Germany"},
    ],
}


def test_create_a_dynamic_list_previews_then_saves_and_recomputes(
    marketer_client, run_jobs, django_capture_on_commit_callbacks
):
    ProspectFactory.create_batch(3, score=60, country="Germany")
    ProspectFactory(score=60, country="France")
    data = {
        "name": "Hot Germans",
        "kind": "dynamic",
        "description": "",
        "criteria": json.dumps(GERMANS_50),
    }
    page = marketer_client.post(reverse("automation:list_create"), {**data, "preview": "1"})
    assert page.status_code == 200 and b'data-testid="preview-count">3<' in page.content
    assert not ProspectList.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        saved = marketer_client.post(reverse("automation:list_create"), data)
    run_jobs("default")
    prospect_list = ProspectList.objects.get()
    assert saved.url == reverse("automation:list_detail", args=[prospect_list.pk])
    prospect_list.refresh_from_db()
    assert prospect_list.member_count == 3
    page = marketer_client.get(saved.url)
    assert b"3 members" in page.content and b"Score \xe2\x89\xa5" in page.content


def test_a_list_on_a_deleted_field_is_refused_with_the_message(marketer_client):
    criteria = {"match": "all", "conditions": [{"field": "custom:gone", "op": "eq", "value": "x"}]}
    page = marketer_client.post(
        reverse("automation:list_create"),
        {"name": "Bad", "kind": "dynamic", "criteria": json.dumps(criteria)},
    )
    assert page.status_code == 200
    assert "The custom field &quot;gone&quot; no longer exists." in page.content.decode()
    assert not ProspectList.objects.exists()


def test_save_as_dynamic_list_maps_the_prospect_filter(marketer_client, marketer):
    query = f"q=anna+berlin&score_min=50&crm_status=lead&assigned_user={marketer.pk}&created_at_after=2026-01-01&mystery=1"
    response = marketer_client.get(reverse("automation:list_from_filter"), {"querystring": query})
    page = marketer_client.get(response.url)
    assert "These filters have no criteria and were left out: mystery." in page.content.decode()
    criteria = page.context["form"].initial["criteria"]
    assert criteria["conditions"][0]["match"] == "any"
    assert {"field": "score", "op": "gte", "value": 50} in criteria["conditions"]
    assert {"field": "crm_status", "op": "eq", "value": "lead"} in criteria["conditions"]
    assert {"field": "assigned_user", "op": "eq", "value": marketer.pk} in criteria["conditions"]
    assert {"field": "created_at", "op": "on_or_after", "value": "2026-01-01"} in criteria[
        "conditions"
    ]
    # The list holds what the prospect list showed.
    from django.http import QueryDict

    from automation.criteria import matching
    from prospects.filters import ProspectFilter

    ProspectFactory(
        first_name="Anna",
        city="x",
        company="Berlin GmbH",
        score=70,
        crm_lead_id="00Q000000000001AAA",
        assigned_user=marketer,
    )
    ProspectFactory(
        first_name="Anna",
        company="Paris SA",
        score=70,
        crm_lead_id="00Q000000000002AAA",
        assigned_user=marketer,
    )
    shown = set(
        ProspectFilter(
            QueryDict(query.replace("&mystery=1", "")), queryset=Prospect.objects.active()
        ).qs.values_list("pk", flat=True)
    )
    assert shown and set(matching(criteria).values_list("pk", flat=True)) == shown


def test_members_page_pages_without_counting_and_removes_selected(
    marketer_client, django_assert_max_num_queries
):
    prospects = ProspectFactory.create_batch(60)
    static = ProspectList.objects.create(name="Hand picked")
    add_members(static, [p.pk for p in prospects])
    url = reverse("automation:list_detail", args=[static.pk])
    marketer_client.get(url)  # warm the session and caches
    with django_assert_max_num_queries(12):
        page = marketer_client.get(url + "?page=2")
    assert page.status_code == 200 and b"60 members" in page.content
    response = marketer_client.post(
        reverse("automation:list_remove_members", args=[static.pk]),
        {"prospect": [prospects[0].pk, prospects[1].pk]},
    )
    assert response.status_code == 302
    static.refresh_from_db()
    assert static.member_count == 58


def test_the_prospect_page_adds_to_and_removes_from_a_static_list(marketer_client):
    prospect = ProspectFactory()
    static = ProspectList.objects.create(name="VIP")
    url = reverse("automation:prospect_lists", args=[prospect.pk])
    marketer_client.post(url, {"prospect_list": static.pk})
    assert static.memberships.filter(prospect=prospect).exists()
    page = marketer_client.get(reverse("prospects:detail", args=[prospect.pk]))
    assert b'data-testid="prospect-lists"' in page.content and b"VIP" in page.content
    marketer_client.post(url, {"remove": static.pk})
    assert not static.memberships.exists()


def test_a_rule_matching_everyone_asks_to_confirm_before_switching_on(
    marketer_client, run_jobs, django_capture_on_commit_callbacks
):
    queue = CrmQueue.objects.create(sf_id="00G000000000001AAA", name="EMEA")
    ProspectFactory.create_batch(2)
    data = {
        "name": "All",
        "mode": "once",
        "criteria": "{}",
        "actions": json.dumps([{"type": "assign_queue", "queue": queue.pk}]),
    }
    marketer_client.post(reverse("automation:rule_create"), data)
    rule = Rule.objects.get()
    assert rule.state == Rule.State.DRAFT
    switch = reverse("automation:rule_switch_on", args=[rule.pk])
    response = marketer_client.post(switch)
    assert response.url.endswith("?confirm=all")
    rule.refresh_from_db()
    assert rule.state == Rule.State.DRAFT
    page = marketer_client.get(response.url)
    assert "This rule matches every prospect (2)" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(switch, {"confirm_all": "yes"})
    run_jobs("default")
    rule.refresh_from_db()
    assert rule.state == Rule.State.DONE
    assert Prospect.objects.filter(assigned_queue=queue).count() == 2
    page = marketer_client.get(reverse("automation:rule_detail", args=[rule.pk]))
    assert b"switched on" in page.content  # the run log


def test_a_rule_with_bad_actions_is_refused_with_messages(marketer_client):
    data = {
        "name": "Bad",
        "mode": "once",
        "criteria": json.dumps(GERMANS_50),
        "actions": json.dumps([{"type": "explode"}]),
    }
    page = marketer_client.post(reverse("automation:rule_create"), data)
    assert page.status_code == 200 and "Action 1" in page.content.decode()
    assert not Rule.objects.exists()


def test_pause_and_resume(marketer_client):
    rule = Rule.objects.create(
        name="R",
        criteria=GERMANS_50,
        actions=[{"type": "adjust_score", "points": 1}],
        state=Rule.State.ACTIVE,
        mode=Rule.Mode.REPEAT,
    )
    ProspectFactory(score=60, country="Germany")
    ProspectFactory(score=10, country="Germany")
    marketer_client.post(reverse("automation:rule_pause", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.state == Rule.State.PAUSED
    marketer_client.post(reverse("automation:rule_switch_on", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.state == Rule.State.ACTIVE


def test_the_rule_page_offers_each_action_by_name_and_escapes_the_names(marketer_client):
    CrmQueue.objects.create(sf_id="00G000000000001AAA", name="<b>Inbound</b>")

    page = marketer_client.get(reverse("automation:rule_create")).content.decode()

    assert 'data-testid="add-action"' in page and '<template data-action="assign_queue">' in page
    assert "&lt;b&gt;Inbound&lt;/b&gt;" in page and "<b>Inbound</b>" not in page
    # A marketer is not offered the Sync admin's "allow a deleted record to be recreated".
    assert 'data-action="allow_recreate"' not in page
    assert '<option value="true">Mark “do not sync”</option>' in page
