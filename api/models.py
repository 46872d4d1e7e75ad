"""API keys: how a tool or a script acts for a portal user through the REST API."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

KEY_PREFIX = "lb"  # every key starts "lb_", so a leaked one is easy to spot in a log or a repo
PREFIX_LENGTH = 8
# Recording each use is bookkeeping, not business data: at most once a minute per key.
LAST_USED_RESOLUTION = 60


def hash_key(key: str) -> str:
    """SHA-256 of the whole key. The secret part carries 256 random bits, so a fast hash is as
    safe as a slow one here (there is nothing to guess) and keeps each request cheap."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def live(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)

    def authenticate(self, key: str) -> "ApiKey | None":
        """The live key ``key`` names, or None. It is found by its public prefix and then
        compared in constant time, so a wrong key teaches nothing about a right one."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != PREFIX_LENGTH:
            return None
        found = self.live().select_related("user").filter(prefix=parts[1]).first()
        if found is None or not hmac.compare_digest(found.hash, hash_key(key)):
            return None
        return found


class ApiKey(models.Model):
    """A user's key to the REST API, sent as ``Authorization: Bearer <key>``.

    The key acts with its user's role and stops working when the user is deactivated or the key
    revoked. Only its SHA-256 is stored; the key itself is shown once, when it is made.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100, help_text="What uses it: a script, a tool.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.shown})"

    @property
    def shown(self) -> str:
        """How pages name the key without revealing it: ``lb_1a2b3c4d_…``."""
        return f"{KEY_PREFIX}_{self.prefix}_…"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

    def note_use(self) -> None:
        """Stamp ``last_used_at``, at most once a minute (one UPDATE, no race with revoking)."""
        now = timezone.now()
        last = self.last_used_at
        if last is None or (now - last).total_seconds() >= LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now


def create_key(*, user, name: str) -> tuple[ApiKey, str]:
    """A new key for ``user``: the row, and the key itself, to be shown once and never again."""
    while True:
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey.objects.create(
        user=user, name=name.strip()[:100], prefix=prefix, hash=hash_key(key)
    )
    return row, key


def revoke_key(*, key: ApiKey) -> bool:
    """Revoke ``key``; False when it was revoked already."""
    return (
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        == 1
    )
