"""Web addresses: what a website value may link to, and the field that checks typed values.

Only http and https are ever linked: ``javascript:``, ``data:`` and ``vbscript:`` run script in
the portal's origin when clicked, and other schemes (ftp, file, app links) are no web pages.
Salesforce's Website fields often hold a bare domain ("acme.example"); Salesforce links those
with ``http://``, and so does Leadbridge, so one value opens one site from either system (and
browsers upgrade to https where the site has it).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.deconstruct import deconstructible

WEB_SCHEMES = ("http", "https")
_WEB_SCHEME = re.compile(r"https?://", re.IGNORECASE)


@deconstructible
class WebAddressValidator(URLValidator):
    """A website typed in a form, an admin page or a corrected CSV must be an http(s) address."""

    schemes = list(WEB_SCHEMES)
    message = "Enter a web address starting with http:// or https://."


class WebsiteField(models.URLField):
    """A website column: forms, the admin and corrected CSVs accept only http(s) addresses.

    A typed bare domain becomes ``https://…`` (Django's form field). Values the pull stores are
    not checked here (see ``sync.engine.inbound.unlinkable_note``); pages link them only
    through ``web_link``.
    """

    default_validators = [WebAddressValidator()]

    def formfield(self, **kwargs):
        # The form field refuses "javascript:…" itself; say what is wanted, not just "invalid".
        messages = {"invalid": WebAddressValidator.message, **kwargs.pop("error_messages", {})}
        return super().formfield(error_messages=messages, **kwargs)


def web_link(value: object) -> str | None:
    """The http(s) address ``value`` links to, or ``None`` when it must stay plain text.

    The address starts with ``http://`` or ``https://`` whatever the value holds, so no
    encoding, case or whitespace trick can reach a browser as another scheme. Addresses that
    carry credentials (``https://bank.example@evil.example``) are a disguise, not a website.
    """
    text = str(value or "").strip()
    if not text:
        return None
    address = text if _WEB_SCHEME.match(text) else "http://" + text
    try:
        WebAddressValidator()(address)
    except ValidationError:
        return None
    return None if urlsplit(address).username is not None else address
