"""Granting a user a role in a study (audited like clinical data)."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from ecrf.audit import save_audited
from ecrf.exceptions import InvalidInput
from ecrf.grant_events import record_grant_event
from ecrf.models import Role, StudyRole
from trials.models import Study


@transaction.atomic
def grant_access(
    *,
    username: str,
    role: str,
    registry_id: str,
    site_codes: list[str] | None = None,
    password: str | None = None,
    actor=None,
) -> tuple[StudyRole, bool]:
    """Gives `username` a role in a study, at the named sites (none named: all sites).

    Creates the user (a staff account, so the admin is open to them) if needed. Returns the
    grant and whether the user was created.
    """
    if role not in Role.values:
        raise InvalidInput(f"Unknown role; choose one of {', '.join(Role.values)}.", field="role")
    study = Study.objects.filter(registry_id=registry_id).first()
    if study is None:
        raise InvalidInput(f"No study {registry_id} is loaded.", field="study")
    site_codes = list(dict.fromkeys(site_codes or []))
    sites = list(study.sites.filter(code__in=site_codes))
    missing = sorted(set(site_codes) - {s.code for s in sites})
    if missing:
        raise InvalidInput(f"Study {registry_id} has no site {', '.join(missing)}.", field="site")

    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"is_staff": True})
    if password:
        # The same validators as every other password (length, common, numeric, similarity).
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), field="password") from exc
        user.set_password(password)
        user.save()
    elif created:
        user.set_unusable_password()
        user.save()

    grant = StudyRole.objects.filter(user=user, study=study, role=role).first()
    reason = f"Access granted: {role} in {registry_id}"
    if grant is None:
        grant = StudyRole(user=user, study=study, role=role)
    else:
        grant.version += 1
    grant.all_sites = not sites
    grant.is_active = True
    grant.scope_summary = "all sites" if not sites else ", ".join(sorted(s.code for s in sites))
    save_audited(grant, actor=actor, reason=reason)
    grant.sites.set(sites)
    record_grant_event(grant, actor=actor, channel="command" if actor is None else "api")
    return grant, created
