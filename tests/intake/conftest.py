import django_rq
import pytest

from intake import imports, received
from intake.models import Form, FormField, FormHandler, FormHandlerField, LandingPage


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Every test starts with no posts counted (the limit's counters live in Redis)."""
    redis = django_rq.get_connection("default")
    for key in redis.scan_iter("leadbridge:*"):
        redis.delete(key)


@pytest.fixture(autouse=True)
def fresh_wake_up(monkeypatch):
    """Every test's first submission wakes the worker (a process asks Redis once per
    WAKE_AGAIN_SECONDS, which a previous test may have just done)."""
    monkeypatch.setattr(received, "_last_wake", 0.0)


def make_handler(slug: str = "contact-us", **extra) -> FormHandler:
    """A form handler mapping email (required), first_name, company and a comment box."""
    handler = FormHandler.objects.create(name="Contact us", slug=slug, **extra)
    for external, field, required in [
        ("email", "email", True),
        ("first_name", "first_name", False),
        ("company", "company", False),
        ("message", "comments", False),
    ]:
        FormHandlerField.objects.create(
            handler=handler, external_name=external, prospect_field=field, required=required
        )
    return handler


def make_form(slug: str = "webinar-form", **extra) -> Form:
    form = Form.objects.create(name="Webinar sign-up", slug=slug, **extra)
    for order, (field, required) in enumerate(
        [("email", True), ("first_name", True), ("last_name", False), ("company", False)]
    ):
        FormField.objects.create(form=form, prospect_field=field, order=order, required=required)
    return form


def make_page(slug: str = "webinar", form: Form | None = None) -> LandingPage:
    return LandingPage.objects.create(
        name="Webinar page",
        slug=slug,
        title="Join the webinar",
        text="Hello.\n\nSign up.",
        form=form or make_form(),
    )


@pytest.fixture
def handler(db) -> FormHandler:
    return make_handler(
        success_url="https://www.acme.example/thanks", error_url="https://www.acme.example/oops?x=1"
    )


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    """Uploads a test leaves behind (import drafts never mapped) go with its temporary
    directory, not into var/uploads."""
    monkeypatch.setattr(imports, "UPLOAD_DIR", tmp_path / "uploads")
