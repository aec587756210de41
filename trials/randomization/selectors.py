"""Reads of allocation lists, scoped to the sites a user may unconceal (issue 13, finding 1).

A stratum key always starts with the site code (``SITE`` or ``SITE|factor=level``), so the
slots of a site are those whose stratum is the code or starts with ``code|``. A data manager
granted only some sites sees only those sites' slots, and never the seed: the seed regenerates
the whole list, every site included.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from ecrf.access import Action, grants_for, is_unrestricted
from ecrf.domain.randomization import STRATUM_SEPARATOR
from trials.models import Site
from trials.randomization.models import AllocationList, AllocationSlot


def slot_scope_q(user) -> Q | None:
    """The slots the user may unconceal, across studies; None means every slot."""
    if is_unrestricted(user):
        return None
    condition = Q(pk__in=[])
    for grant in grants_for(user):
        if not grant.allows(Action.VIEW_ALLOCATION_LIST):
            continue
        in_study = Q(allocation_list__study_id=grant.study_id)
        if grant.all_sites:
            condition |= in_study
            continue
        codes = Site.objects.filter(pk__in=grant.site_ids, study_id=grant.study_id).values_list(
            "code", flat=True
        )
        for code in codes:
            condition |= in_study & (
                Q(stratum=code) | Q(stratum__startswith=f"{code}{STRATUM_SEPARATOR}")
            )
    return condition


def sees_whole_list(user, allocation_list: AllocationList) -> bool:
    """Study-wide unconcealment: the only case in which the seed may be shown."""
    if is_unrestricted(user):
        return True
    return any(
        g.study_id == allocation_list.study_id
        and g.all_sites
        and g.allows(Action.VIEW_ALLOCATION_LIST)
        for g in grants_for(user)
    )


def visible_slots(user, allocation_list: AllocationList) -> QuerySet[AllocationSlot]:
    slots = allocation_list.slots.all()
    condition = slot_scope_q(user)
    return slots if condition is None else slots.filter(condition)
