"""Display filters of the casebook: plain numbers and times with their time zone."""

from __future__ import annotations

from django import template
from django.utils import timezone

from visits.casebook import plain_number

register = template.Library()


@register.filter
def plain(value):
    """25.0000 → 25; None → —."""
    return plain_number(value)


@register.filter
def stamp(value):
    """A timestamp in the project's time zone, with the zone named: 2026-01-05 09:30 UTC."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
