"""The write core's per-column cleaners take exactly what the full form-and-model validation
takes (``_clean_standard``, the edit form's rules), with the same values and the same messages
for what it refuses: they are only faster."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.writes import WRITABLE, WriteOptions, _clean_standard, _Cleaner
from prospects.models import SCORE_VALIDATORS, Prospect

pytestmark = pytest.mark.django_db

TRICKY = [
    "", " ", "  Ada  ", "x" * 80, "x" * 81, "x" * 255, "x" * 256, "nul\x00here", "\t\n",
    "ada@example.com", " ada@example.com ", "ADA@EXAMPLE.COM", "ada@localhost", "ada@[127.0.0.1]",
    "ada@[::1]", "ada@ex ample.com", "ada@@example.com", "ada", "@example.com", "ada@",
    "ada@münchen.de", "ada@xn--mnchen-3ya.de", '"ada lovelace"@example.com', "a" * 310 + "@x.io",
    "ada@example", "ada@-example.com", "ada.@example.com", "example.com", "https://example.com",
    "javascript:alert(1)", "12", "-3", "1e3", "12.50", "abc", "true", "<b>x</b>",
]  # fmt: skip


def outcome(clean, value):
    try:
        return ("ok", clean(value))
    except ValidationError as exc:
        return ("refused", exc.messages)


def reference(name):
    model_field = Prospect._meta.get_field(name)
    form_field = model_field.formfield()
    extra = list(model_field.validators) + (SCORE_VALIDATORS if name == "score" else [])
    return lambda raw: _clean_standard(model_field, form_field, extra, raw)


STANDARD = [
    n for n in WRITABLE if Prospect._meta.get_field(n).get_internal_type() != "BooleanField"
]


@pytest.mark.parametrize("name", STANDARD)
def test_each_column_takes_and_refuses_what_the_full_validation_does(name):
    cleaner = _Cleaner(WriteOptions())
    slow = reference(name)
    for value in TRICKY:
        assert outcome(lambda v: cleaner.clean(name, v), value) == outcome(slow, value), value
        # Asked again (a remembered value, a remembered email domain): the same answer.
        assert outcome(lambda v: cleaner.clean(name, v), value) == outcome(slow, value), value


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["email", "first_name", "comments", "zip", "website"]),
    value=st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
    | st.builds(lambda u, d: f"{u}@{d}", st.text(max_size=20), st.text(max_size=30)),
)
def test_any_text_gets_the_same_answer_from_the_fast_cleaner(name, value):
    cleaner = _Cleaner(WriteOptions())
    assert outcome(lambda v: cleaner.clean(name, v), value) == outcome(reference(name), value)
