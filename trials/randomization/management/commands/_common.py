"""What both list commands share: resolving the study and the acting user, reporting errors."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ecrf.domain.errors import DomainError
from ecrf.exceptions import ServiceError
from trials.models import Study


def study_and_user(registry_id: str, username: str) -> tuple[Study, object]:
    study = Study.objects.filter(registry_id=registry_id).first()
    if study is None:
        raise CommandError(f"No study {registry_id} is loaded (see manage.py load_protocol).")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user {username!r}: the list records who made it.")
    return study, user


def command_error(exc: ServiceError | DomainError) -> CommandError:
    """Every problem on its own line, each naming its field (or its CSV line and column)."""
    if isinstance(exc, DomainError):
        return CommandError(f"{exc.field}: {exc.message}")
    return CommandError(
        "\n".join(
            f"{e['field']}: {e['message']}" if e.get("field") else e["message"] for e in exc.errors
        )
    )


def describe(allocation_list) -> str:
    strata = allocation_list.slots.values("stratum").distinct().count()
    return (
        f"Allocation list #{allocation_list.pk} for {allocation_list.study.registry_id}: "
        f"{allocation_list.slots.count()} slots in {strata} strata, "
        f"{allocation_list.source} by {allocation_list.created_by}."
    )
