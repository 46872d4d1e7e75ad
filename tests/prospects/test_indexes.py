"""The prospect table's partial indexes answer every lookup the product makes by a link.

The optional links are indexed only where set (prospects 0013: a row without one writes no
index entry on each push and pull). A query finds such an index only when the database can
prove its condition from the query's, so each lookup the product makes is checked here, on
both databases, against the plan.
"""

import pytest
from django.db import connection
from django.db.models import Count, Q

from automation.criteria import matching
from portal.fake_prospects import make_prospects
from prospects.factories import CampaignFactory, ProspectFactory, UserFactory
from prospects.filters import ProspectFilter
from prospects.models import CrmQueue, GradingProfile, Prospect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def table_with_statistics(db):
    """500 prospects without links, analyzed: the planner weighs each index by what it would
    read, as on a real table (on an empty one every index costs the same)."""
    make_prospects(500)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Prospect._meta.db_table}")


def plan(queryset) -> str:
    """The plan of ``queryset``; on PostgreSQL with table scans priced out, so a tiny test table
    still shows whether an index can answer at all."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return " ".join(row[0] for row in cursor.fetchall())


def test_the_list_filtered_by_assigned_user_reads_the_partial_index():
    owner = UserFactory()
    ProspectFactory(assigned_user=owner)
    listed = ProspectFilter({"assigned_user": owner.pk}, queryset=Prospect.objects.active()).qs
    assert "prospect_assigned_user_idx" in plan(listed)


@pytest.mark.parametrize("field", ["campaign", "assigned_queue"])
def test_a_list_criterion_on_a_link_reads_its_partial_index(field):
    target = CampaignFactory() if field == "campaign" else CrmQueue.objects.create(sf_id="00G1")
    ProspectFactory(**{field: target})
    criteria = {"conditions": [{"field": field, "op": "eq", "value": target.pk}]}
    assert f"prospect_{field}_idx" in plan(matching(criteria))


@pytest.mark.parametrize(
    ("column", "index"),
    [
        ("assigned_user_id", "prospect_assigned_user_idx"),
        ("assigned_queue_id", "prospect_assigned_queue_idx"),
        ("campaign_id", "prospect_campaign_idx"),
        ("grading_profile_id", "prospect_grading_profile_idx"),
    ],
)
def test_a_lookup_of_many_links_reads_the_partial_index(column, index):
    """As deleting several campaigns (SET_NULL) does: PostgreSQL proves ``IS NOT NULL`` from an
    IN list of any length (a condition such as ``<> ''`` it proves only up to 100 values)."""
    lookup = Prospect.objects.filter(**{f"{column}__in": list(range(1, 501))}).order_by()
    assert index in plan(lookup)


def test_the_scoring_page_counts_each_profiles_prospects_through_its_index():
    profile = GradingProfile.objects.create(name="Enterprise")
    ProspectFactory(grading_profile=profile)
    counted = GradingProfile.objects.annotate(
        own=Count("prospects", filter=Q(prospects__archived_at__isnull=True))
    )
    assert "prospect_grading_profile_idx" in plan(counted)


def test_the_search_reads_the_trigram_index():
    """A search of a million prospects reads only the rows holding its words (prospects 0016)."""
    ProspectFactory(last_name="Smith")
    searched = ProspectFilter({"q": "Smith acme"}, queryset=Prospect.objects.active()).qs
    if connection.vendor == "postgresql":
        # The words alone, unordered (as the count asks): on a table this small the planner
        # would rather read the list's own index, as it may on a big one for a page of 25.
        assert "prospect_search_idx" in plan(Prospect.objects.search("Smith acme").order_by())
    assert searched.count() == 0


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("smith", {"ada", "bob", "cy"}),  # a last name, an email, a company
        ("SMITH", {"ada", "bob", "cy"}),  # any case
        ("ada smith", {"ada"}),  # every word, each in any field
        ("ADA LOVE", set()),  # words in no field
        ("mith", {"ada", "bob", "cy"}),  # within a word
        ("a s", {"ada", "bob", "cy", "dee"}),  # one letter each: still "contains"
        ("100%", {"dee"}),  # LIKE's wildcards are plain characters
        ("o_k", set()),
        ("ada@example.comada", set()),  # a word never spans two fields
        ("  ", {"ada", "bob", "cy", "dee"}),
    ],
)
def test_the_search_finds_each_word_in_any_field(query, found):
    ours = [
        ProspectFactory(
            first_name="Ada", last_name="Smith", email="ada@example.com", company="Acme"
        ),
        ProspectFactory(
            first_name="Bob", last_name="Jones", email="bob.smith@example.com", company=""
        ),
        ProspectFactory(
            first_name="Cy", last_name="", email="cy@example.com", company="Smithson Ltd"
        ),
        ProspectFactory(
            first_name="Dee", last_name="Ok", email="dee@example.com", company="100% Sales"
        ),
    ]
    searched = Prospect.objects.filter(pk__in=[p.pk for p in ours]).search(query)
    assert set(searched.values_list("first_name", flat=True)) == {n.title() for n in found}
