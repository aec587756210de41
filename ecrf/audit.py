"""Audited writes and readable audit histories.

Services write through these helpers so that every change carries its acting user and reason
in the same transaction (django-simple-history reads `_history_user` and `_change_reason`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from ecrf.after_write import record_written
from ecrf.exceptions import InvalidInput, StaleVersion

# Bookkeeping fields that change on every save; they are not clinical changes.
UNTRACKED_FIELDS = frozenset({"updated_at", "version", "created_at"})


def require_reason(reason: str | None) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise InvalidInput("A reason is required for every change.", field="reason")
    return cleaned


def save_audited(instance: models.Model, *, actor, reason: str | None) -> models.Model:
    """Validates and saves one record, writing its history row with user and reason, then runs
    what readers of this model registered to follow the write (`ecrf.after_write`)."""
    instance._history_user = actor
    instance._change_reason = reason or None
    instance.full_clean()
    with transaction.atomic():
        instance.save()
        record_written(instance, actor=actor, reason=reason)
    return instance


def check_version(instance: models.Model, expected_version: int | None) -> None:
    if expected_version is None:
        raise InvalidInput(
            "Send the version you read (field `version` or an If-Match header) with every "
            "update, so concurrent edits cannot overwrite each other.",
            field="version",
        )
    if int(expected_version) != instance.version:
        raise StaleVersion(
            f"The record was changed by someone else (you sent version {expected_version}, "
            f"the stored version is {instance.version}); reload it and apply your change again.",
            field="version",
        )


@transaction.atomic
def update_audited(
    instance: models.Model,
    *,
    changes: dict[str, Any],
    actor,
    reason: str | None,
    expected_version: int | None,
) -> models.Model:
    """Applies `changes` to a freshly locked copy of the record, if nobody changed it since."""
    reason = require_reason(reason)
    locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    check_version(locked, expected_version)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.version += 1
    return save_audited(locked, actor=actor, reason=reason)


@transaction.atomic
def void_audited(instance: models.Model, *, actor, reason: str | None, expected_version):
    reason = require_reason(reason)
    locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    check_version(locked, expected_version)
    if locked.is_voided:
        raise InvalidInput("The record is already voided.", field=None)
    locked.is_voided = True
    locked.voided_at = timezone.now()
    locked.voided_by = actor
    locked.void_reason = reason
    locked.version += 1
    return save_audited(locked, actor=actor, reason=reason)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def _entry_type(record, previous) -> str:
    if record.history_type == "+":
        return "created"
    if record.history_type == "-":
        return "deleted"
    became_void = getattr(record, "is_voided", False) and not getattr(previous, "is_voided", False)
    return "voided" if became_void else "changed"


def history_entries(instance: models.Model) -> list[dict]:
    """The record's audit trail, oldest first: who, when, what type, why, old and new values."""
    records = list(
        instance.history.select_related("history_user").order_by("history_date", "history_id")
    )
    fields = [
        f.attname
        for f in instance._meta.concrete_fields
        if f.attname not in UNTRACKED_FIELDS and f.attname != "id"
    ]
    entries = []
    previous = None
    for record in records:
        changes = []
        for name in fields:
            new = getattr(record, name, None)
            old = getattr(previous, name, None) if previous is not None else None
            if previous is None and record.history_type == "+":
                if new in (None, ""):
                    continue
                changes.append({"field": name, "old": None, "new": _plain(new)})
            elif old != new:
                changes.append({"field": name, "old": _plain(old), "new": _plain(new)})
        user = record.history_user
        entries.append(
            {
                "history_id": record.history_id,
                "changed_at": record.history_date,
                "user": user.get_username() if user is not None else None,
                "type": _entry_type(record, previous),
                "reason": record.history_change_reason or "",
                "version": getattr(record, "version", None),
                "changes": changes,
            }
        )
        previous = record
    return entries
