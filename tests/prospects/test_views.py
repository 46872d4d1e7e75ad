import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect


@pytest.mark.django_db
def test_list_shows_prospects_with_a_pinned_number_of_queries(
    marketer_client, django_assert_max_num_queries
):
    ProspectFactory.create_batch(60, assigned_user=UserFactory())
    with django_assert_max_num_queries(10):
        response = marketer_client.get(reverse("prospects:list"))
    assert response.status_code == 200
    assert response.context["table"].paginator.count == 60
    assert len(response.context["table"].page.object_list) == 25


@pytest.mark.django_db
def test_filtered_page_stays_within_the_query_budget(
    marketer_client, django_assert_max_num_queries
):
    owner = UserFactory()
    ProspectFactory.create_batch(30, assigned_user=owner, score=50)
    ProspectFactory.create_batch(30, score=5)
    url = reverse("prospects:list") + f"?assigned_user={owner.pk}&score_min=10&score_max=100"
    # 11 with the navigation's open-errors badge, which counting tests always start uncached.
    with django_assert_max_num_queries(11):
        response = marketer_client.get(url)
    assert response.context["table"].paginator.count == 30


@pytest.mark.django_db
def test_search_matches_name_email_and_company(marketer_client):
    ProspectFactory(
        first_name="Ada", last_name="Lovelace", company="Engines", email="ada@x.example"
    )
    ProspectFactory(
        first_name="Alan", last_name="Turing", company="Bletchley", email="at@y.example"
    )
    for term in ("lovelace", "ADA@x", "engines"):
        response = marketer_client.get(reverse("prospects:list"), {"q": term})
        emails = [row.record.email for row in response.context["table"].page.object_list]
        assert emails == ["ada@x.example"], term


@pytest.mark.django_db
def test_crm_status_filter(marketer_client):
    ProspectFactory(email="lead@x.example", crm_lead_id="00Q000000000001AAA")
    ProspectFactory(email="contact@x.example", crm_contact_id="003000000000001AAA")
    ProspectFactory(email="none@x.example")
    for status, expected in [
        ("lead", "lead@x.example"),
        ("contact", "contact@x.example"),
        ("not_synced", "none@x.example"),
    ]:
        response = marketer_client.get(reverse("prospects:list"), {"crm_status": status})
        assert [row.record.email for row in response.context["table"].page.object_list] == [
            expected
        ]


@pytest.mark.django_db
def test_list_sorts_by_score(marketer_client):
    for score in (5, 50, 20):
        ProspectFactory(score=score)
    response = marketer_client.get(reverse("prospects:list"), {"sort": "-score"})
    assert [row.record.score for row in response.context["table"].page.object_list] == [50, 20, 5]


@pytest.mark.django_db
def test_user_data_is_escaped(marketer_client):
    prospect = ProspectFactory(first_name="<script>alert(1)</script>", comments="<b>x</b>")
    for url in (reverse("prospects:list"), prospect.get_absolute_url()):
        html = marketer_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;" in html


@pytest.mark.django_db
def test_create_prospect(marketer_client):
    response = marketer_client.post(
        reverse("prospects:create"),
        {"email": "new@leadbridge.example", "first_name": "New", "score": 0},
    )
    prospect = Prospect.objects.get(email="new@leadbridge.example")
    assert response.status_code == 302 and response["Location"] == prospect.get_absolute_url()


@pytest.mark.django_db
def test_invalid_edit_shows_errors_beside_fields_and_saves_nothing(marketer_client):
    prospect = ProspectFactory(first_name="Keep", email="keep@x.example")
    response = marketer_client.post(
        reverse("prospects:edit", args=[prospect.pk]),
        {"email": "not-an-email", "first_name": "Changed", "score": "lots"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) >= {"email", "score"}
    assert "Enter a valid email address." in response.content.decode()
    prospect.refresh_from_db()
    assert (prospect.first_name, prospect.email) == ("Keep", "keep@x.example")


@pytest.mark.django_db
def test_several_prospects_may_share_an_email():
    ProspectFactory(email="shared@x.example")
    ProspectFactory(email="shared@x.example")
    assert Prospect.objects.filter(email="shared@x.example").count() == 2


@pytest.mark.django_db
def test_detail_shows_crm_bookkeeping(marketer_client):
    prospect = ProspectFactory(crm_lead_id="00Q000000000001AAA")
    html = marketer_client.get(prospect.get_absolute_url()).content.decode()
    assert "00Q000000000001AAA" in html and "Lead" in html


@pytest.mark.django_db
def test_custom_fields_are_edited_and_stamped(marketer_client):
    from prospects.models import CustomField

    CustomField.objects.create(api_name="customer_comment", label="Customer comment")
    prospect = ProspectFactory(email="c@x.example")
    data = {"email": "c@x.example", "score": 0, "custom:customer_comment": "Wants a demo"}
    marketer_client.post(reverse("prospects:edit", args=[prospect.pk]), data)
    prospect.refresh_from_db()
    assert prospect.custom_fields == {"customer_comment": "Wants a demo"}
    assert "custom:customer_comment" in prospect.field_changed_at
    html = marketer_client.get(prospect.get_absolute_url()).content.decode()
    assert "Customer comment" in html and "Wants a demo" in html


@pytest.mark.django_db
def test_edit_requests_a_sync_with_the_right_reason(marketer_client):
    from prospects.models import SyncQueueItem

    prospect = ProspectFactory(email="r@x.example", assigned_user=None)
    owner = UserFactory()
    owner.groups.add(Group.objects.get(name="Marketer"))
    data = {"email": "r@x.example", "score": 0, "assigned_user": owner.pk}
    marketer_client.post(reverse("prospects:edit", args=[prospect.pk]), data)
    item = SyncQueueItem.objects.get(prospect=prospect)
    assert item.reason == "assignment_change"
    prospect.refresh_from_db()
    assert prospect.sync_status == "pending" and "assigned_user" in prospect.field_changed_at


@pytest.mark.django_db
def test_sync_now_queues_and_the_status_fragment_polls_while_pending(marketer_client):
    from prospects.models import SyncQueueItem

    prospect = ProspectFactory()
    response = marketer_client.post(reverse("prospects:sync", args=[prospect.pk]))
    html = response.content.decode()
    assert SyncQueueItem.objects.get(prospect=prospect).reason == "manual"
    assert 'hx-trigger="every 1s"' in html and "Pending" in html
    prospect.__class__.objects.filter(pk=prospect.pk).update(sync_status="synced")
    html = marketer_client.get(
        reverse("prospects:sync_status", args=[prospect.pk])
    ).content.decode()
    assert "every 1s" not in html and "Synced" in html


@pytest.mark.django_db
def test_sync_now_requires_post(marketer_client):
    prospect = ProspectFactory()
    assert marketer_client.get(reverse("prospects:sync", args=[prospect.pk])).status_code == 405


@pytest.mark.django_db
def test_the_prospect_page_shows_a_dash_for_an_unknown_employee_count(marketer_client):
    prospect = ProspectFactory(employees=None)
    page = marketer_client.get(reverse("prospects:detail", args=[prospect.pk])).content.decode()
    assert "<dt>Employees</dt><dd>—</dd>" in page and "None" not in page
