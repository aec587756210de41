"""The admin index's worklists (visits.worklists): counts for the signed-in user's sites."""

from __future__ import annotations

from django import template

from ecrf.access import grants_for, is_unrestricted
from visits.worklists import worklist_summary

register = template.Library()


@register.simple_tag
def worklists_for(user):
    if not (is_unrestricted(user) or grants_for(user)):
        return []  # a user with no role in any study has no site, hence no worklist
    return worklist_summary(user)
