"""Demo data for the local demo (``make run``): users of both roles and realistic prospects.

Idempotent: running it again changes nothing once the demo is there.
"""

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from portal.roles import MARKETER, SYNC_ADMIN
from prospects.factories import CampaignFactory, ProspectFactory
from prospects.models import Prospect


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    staff: bool


DEMO_LOGINS = [
    DemoLogin("admin", "leadbridge-admin", SYNC_ADMIN, staff=True),
    DemoLogin("marketer", "leadbridge-marketer", MARKETER, staff=False),
]
DEMO_PROSPECTS = 300
DEMO_CAMPAIGNS = [
    "Spring webinar series",
    "Trade show 2026",
    "Website sign-ups",
    "Partner referrals",
]


def load_demo_users() -> list:
    users = []
    for login in DEMO_LOGINS:
        user, created = get_user_model().objects.get_or_create(
            username=login.username,
            defaults={"email": f"{login.username}@leadbridge.example", "is_staff": login.staff},
        )
        if created:
            user.set_password(login.password)
            user.save()
        user.groups.add(Group.objects.get(name=login.role))
        users.append(user)
    return users


@transaction.atomic
def load_demo(*, prospects: int = DEMO_PROSPECTS, seed: int = 2026) -> int:
    """Create the demo users, campaigns and prospects; return how many prospects were added."""
    users = load_demo_users()
    if Prospect.objects.exists():
        return 0
    random.seed(seed)
    ProspectFactory.reset_sequence(1)
    campaigns = [CampaignFactory(name=name) for name in DEMO_CAMPAIGNS]
    built = [
        ProspectFactory.build(
            assigned_user=random.choice([*users, None, None]),
            campaign=random.choice([*campaigns, None]),
        )
        for _ in range(prospects)
    ]
    Prospect.objects.bulk_create(built, batch_size=500)
    return len(built)
