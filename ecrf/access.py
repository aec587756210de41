"""Who may do what, where. A few small helpers, exhaustively tested.

Access is granted per study by a `StudyRole`, either for listed sites or for all sites of the
study. Every query for site-bound data goes through `scope_queryset`, so a user never sees a
record of a site they do not belong to: such records are simply absent (the API answers 404,
never 403, and so does not even confirm that the record exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Q, QuerySet

from ecrf.exceptions import PermissionRefused
from ecrf.models import Role, StudyRole


class Action(StrEnum):
    VIEW = "view"  # read the study's patients and clinical records
    ENTER_DATA = "enter_data"  # create and correct patients and clinical records
    CONFIRM_ELIGIBILITY = "confirm_eligibility"  # answer investigator-confirmed criteria
    RANDOMIZE = "randomize"  # randomize or enrol a consented, eligible patient
    BACK_ENTER = "back_enter"  # enter a past randomization date for historical data
    VOID = "void"  # void a clinical record (it stays in history)
    VIEW_AUDIT = "view_audit"  # read audit histories
    VIEW_REPORTS = "view_reports"  # endpoint assessments and study reports
    DECIDE_DOSE = "decide_dose"  # accept, modify or reject a proposed dose change
    VIEW_ALLOCATION_LIST = "view_allocation_list"  # unconcealed list (audited)
    MANAGE_RANDOMIZATION = "manage_randomization"  # generate or import a list
    # Data management (issue 14): the monitor's and data manager's side of a query, the site's
    # side, and freezing or locking data for analysis.
    MANAGE_QUERIES = "manage_queries"  # raise, close and re-open queries
    ANSWER_QUERIES = "answer_queries"  # answer a query of the own site
    FREEZE_LOCK = "freeze_lock"  # freeze or lock data, and release it with a reason
    VERIFY_SOURCE = "verify_source"  # mark records source-verified (SDV)
    # Reassess every patient of the study (after a protocol or engine change; issue 12's job).
    RECOMPUTE = "recompute_assessments"


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.COORDINATOR: frozenset(
        {
            Action.VIEW,
            Action.ENTER_DATA,
            Action.RANDOMIZE,
            Action.VOID,
            Action.VIEW_AUDIT,
            Action.ANSWER_QUERIES,
        }
    ),
    Role.INVESTIGATOR: frozenset(
        {
            Action.VIEW,
            Action.ENTER_DATA,
            Action.CONFIRM_ELIGIBILITY,
            Action.RANDOMIZE,
            Action.VOID,
            Action.VIEW_AUDIT,
            Action.VIEW_REPORTS,
            Action.DECIDE_DOSE,
            Action.ANSWER_QUERIES,
        }
    ),
    Role.MONITOR: frozenset(
        {
            Action.VIEW,
            Action.VIEW_AUDIT,
            Action.VIEW_REPORTS,
            Action.MANAGE_QUERIES,
            Action.VERIFY_SOURCE,
        }
    ),
    Role.DATA_MANAGER: frozenset(
        {
            Action.VIEW,
            Action.ENTER_DATA,
            Action.CONFIRM_ELIGIBILITY,
            Action.RANDOMIZE,
            Action.BACK_ENTER,
            Action.VOID,
            Action.VIEW_AUDIT,
            Action.VIEW_REPORTS,
            Action.VIEW_ALLOCATION_LIST,
            Action.MANAGE_RANDOMIZATION,
            Action.DECIDE_DOSE,
            Action.MANAGE_QUERIES,
            Action.FREEZE_LOCK,
            Action.VERIFY_SOURCE,
            Action.RECOMPUTE,
        }
    ),
    Role.STATISTICIAN: frozenset(
        {Action.VIEW, Action.VIEW_AUDIT, Action.VIEW_REPORTS, Action.MANAGE_RANDOMIZATION}
    ),
}


@dataclass(frozen=True)
class Grant:
    study_id: int
    role: str
    all_sites: bool
    site_ids: frozenset[int]

    def allows(self, action: Action) -> bool:
        return action in ROLE_ACTIONS[self.role]

    def covers_site(self, site_id: int | None) -> bool:
        return self.all_sites or (site_id is not None and site_id in self.site_ids)


def grants_for(user) -> tuple[Grant, ...]:
    """The user's active grants, read once per request (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return ()
    cached = getattr(user, "_ecrf_grants", None)
    if cached is not None:
        return cached
    # One statement, every request: a role's row once per site it names (once, with no site,
    # when it names none), gathered here, rather than the roles and then their sites.
    rows = (
        StudyRole.objects.filter(user=user, is_active=True)
        .order_by("study_id", "role", "id")
        .values_list("id", "study_id", "role", "all_sites", "sites__id")
    )
    roles: dict[int, tuple[int, str, bool, set[int]]] = {}
    for role_id, study_id, role, all_sites, site_id in rows:
        entry = roles.setdefault(role_id, (study_id, role, all_sites, set()))
        if site_id is not None:
            entry[3].add(site_id)
    grants = tuple(
        Grant(study_id=study_id, role=role, all_sites=all_sites, site_ids=frozenset(site_ids))
        for study_id, role, all_sites, site_ids in roles.values()
    )
    user._ecrf_grants = grants
    return grants


def is_unrestricted(user) -> bool:
    """Superusers administer the system and see every study and site."""
    return bool(getattr(user, "is_superuser", False))


def can(user, action: Action, *, study_id: int, site_id: int | None = None) -> bool:
    """May `user` perform `action` in this study (and, for site-bound data, this site)?"""
    if is_unrestricted(user):
        return True
    return any(
        g.study_id == study_id and g.allows(action) and (site_id is None or g.covers_site(site_id))
        for g in grants_for(user)
    )


def study_ids_for(user, action: Action = Action.VIEW) -> set[int] | None:
    """Studies in which the user may perform `action`; None means every study."""
    if is_unrestricted(user):
        return None
    return {g.study_id for g in grants_for(user) if g.allows(action)}


def scope_q(user, action: Action, *, study_field: str, site_field: str | None) -> Q | None:
    """A filter selecting the rows the user may act on; None means no restriction."""
    if is_unrestricted(user):
        return None
    condition = Q(pk__in=[])
    for g in grants_for(user):
        if not g.allows(action):
            continue
        clause = Q(**{f"{study_field}_id": g.study_id})
        if site_field is not None and not g.all_sites:
            clause &= Q(**{f"{site_field}_id__in": sorted(g.site_ids)})
        condition |= clause
    return condition


def scope_queryset(
    queryset: QuerySet,
    user,
    action: Action = Action.VIEW,
    *,
    study_field: str = "study",
    site_field: str | None = "site",
) -> QuerySet:
    condition = scope_q(user, action, study_field=study_field, site_field=site_field)
    return queryset if condition is None else queryset.filter(condition)


def require_study_wide(user, action: Action, study_id: int, refusal: str) -> None:
    """For what touches every site of a study (locking it, recomputing it): a grant allowing
    `action` over all of its sites, else 403 with `refusal`."""
    if is_unrestricted(user):
        return
    if not any(
        g.study_id == study_id and g.allows(action) and g.all_sites for g in grants_for(user)
    ):
        raise PermissionRefused(refusal)


def require_on_patient(user, action: Action, patient) -> None:
    """Refuses (403) before the request body is even read: a role without the right learns
    nothing from validation errors (issue 13, access matrix)."""
    if not can(user, action, study_id=patient.study_id, site_id=patient.site_id):
        raise PermissionRefused(f"Your role does not allow this ({action.value}).")
