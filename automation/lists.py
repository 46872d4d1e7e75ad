"""Static list membership, set-based: the action set's "add to list" and "remove from list".

A minimal version written with the action set; the lists helper owns this module and may grow
it (dynamic lists, recomputation) keeping these two functions' names and meaning.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from automation.models import ListMembership, ProspectList
from prospects.models import Prospect

CHUNK = 5000


class ListError(ValueError):
    """A list that cannot take the change (a dynamic list's members follow its criteria)."""


def _check_static(prospect_list: ProspectList) -> None:
    if prospect_list.kind != ProspectList.Kind.STATIC:
        raise ListError(
            f"“{prospect_list.name}” is a dynamic list: its members are whoever its criteria "
            "match, so prospects cannot be added or removed by hand."
        )


def add_members(
    prospect_list: ProspectList,
    prospect_ids: Iterable[int],
    *,
    source: str = ListMembership.Source.MANUAL,
) -> list[int]:
    """Add these prospects to a static list; returns the ids newly added (members already on
    it, and prospects that no longer exist, are skipped)."""
    _check_static(prospect_list)
    ids = list(dict.fromkeys(prospect_ids))
    added: list[int] = []
    now = timezone.now()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with transaction.atomic():
            present = set(
                ListMembership.objects.filter(
                    list=prospect_list, prospect_id__in=chunk
                ).values_list("prospect_id", flat=True)
            )
            live = Prospect.objects.filter(pk__in=chunk).values_list("pk", flat=True)
            new = [pk for pk in live if pk not in present]
            ListMembership.objects.bulk_create(
                [
                    ListMembership(list=prospect_list, prospect_id=pk, source=source, added_at=now)
                    for pk in new
                ],
                ignore_conflicts=True,  # added by another path a moment ago: that one stands
            )
            added.extend(new)
    if added:
        _count(prospect_list)
    return added


def remove_members(prospect_list: ProspectList, prospect_ids: Iterable[int]) -> list[int]:
    """Remove these prospects from a static list; returns the ids that were on it."""
    _check_static(prospect_list)
    ids = list(dict.fromkeys(prospect_ids))
    removed: list[int] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with transaction.atomic():
            members = ListMembership.objects.filter(list=prospect_list, prospect_id__in=chunk)
            gone = list(members.values_list("prospect_id", flat=True))
            members.delete()
            removed.extend(gone)
    if removed:
        _count(prospect_list)
    return removed


def _count(prospect_list: ProspectList) -> None:
    ProspectList.objects.filter(pk=prospect_list.pk).update(
        member_count=ListMembership.objects.filter(list=prospect_list).count()
    )
