"""Template filters that turn stored values into links only when that is safe."""

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from prospects.validators import web_link

register = template.Library()


@register.filter
def safe_link(value: object) -> SafeString:
    """``value`` as a link when it is a web address (or a bare domain), else as escaped text.

    Use it wherever a stored URL is shown (``{{ prospect.website|safe_link }}``), never
    ``<a href="{{ value }}">``: escaping stops markup, not a ``javascript:`` address.
    """
    if value in (None, ""):
        return SafeString("")
    href = web_link(value)
    if href is None:
        return escape(value)
    return format_html(
        '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', href, value
    )
