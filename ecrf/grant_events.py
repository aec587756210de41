"""Role and site grants written to the security event log (issue 13)."""

from __future__ import annotations

from ecrf.models import SecurityEvent, StudyRole


def record_grant_event(grant: StudyRole, *, actor, channel: str) -> None:
    """Role and site grants go to the security event log too (issue 13)."""
    by = actor.get_username() if actor is not None else "manage.py"
    state = "active" if grant.is_active else "inactive"
    SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.GRANT,
        username=grant.user.get_username(),
        user=grant.user,
        channel=channel,
        detail=(
            f"{grant.role} in {grant.study.registry_id} ({grant.scope_summary or 'all sites'}), "
            f"{state}, by {by}"
        ),
    )
