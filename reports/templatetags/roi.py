from django import template

from reports.tables import money as _money
from reports.tables import percent

register = template.Library()


@register.filter
def money(value):
    return _money(value)


@register.filter
def pct(value):
    return percent(value)
