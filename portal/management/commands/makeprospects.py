"""``manage.py makeprospects N``: N realistic prospects for scale tests (COPY on PostgreSQL)."""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.demo import DEMO_SALES_REPS
from portal.fake_prospects import make_prospects
from prospects.models import Campaign, CrmQueue


class Command(BaseCommand):
    help = (
        "Create N realistic prospects fast (COPY on PostgreSQL), e.g. a million for a scale "
        "test: `manage.py makeprospects 1000000 --assigned --sync`."
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument(
            "--assigned",
            action="store_true",
            help="Assign every prospect to the demo's sales reps (so each one syncs).",
        )
        parser.add_argument("--owner", help="Assign every prospect to this username instead.")
        parser.add_argument("--queue", help="Assign every prospect to this CRM queue (its name).")
        parser.add_argument(
            "--sync", action="store_true", help="Queue them for sync, as an import would."
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, count: int, assigned: bool, owner, queue, sync: bool, seed: int, **_):
        if not settings.DEBUG:
            # Made-up people do not belong in a production database.
            raise CommandError("makeprospects is for local and test databases: it needs DEBUG on.")
        if count < 1:
            raise CommandError("Give a number of prospects above 0.")
        owners = [None, None, None]  # most prospects of a real database wait for assignment
        users = get_user_model().objects
        if owner:
            found = users.filter(username=owner).first()
            if found is None:
                raise CommandError(f"No user named {owner!r}.")
            owners = [found]
        elif assigned:
            owners = [
                users.get_or_create(username=name, defaults={"email": email})[0]
                for name, email in DEMO_SALES_REPS
            ]
        crm_queue = None
        if queue:
            crm_queue = CrmQueue.objects.filter(name=queue).first()
            if crm_queue is None:
                names = ", ".join(CrmQueue.objects.values_list("name", flat=True)) or "none yet"
                raise CommandError(f"No CRM queue named {queue!r} (known: {names}).")
        started = time.perf_counter()
        ids = make_prospects(
            count,
            owners=owners,
            queue=crm_queue,
            campaigns=[*Campaign.objects.all()[:10], None],
            seed=seed,
            sync=sync,
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(ids):,} prospects created in {elapsed:.1f} s"
                + (", queued for sync" if sync else "")
                + "."
            )
        )
