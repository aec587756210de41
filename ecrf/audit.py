"""Audited writes and readable audit histories.

Services write through these helpers so that every change carries its acting user and reason
in the same transaction (django-simple-history reads `_history_user` and `_change_reason`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from ecrf.after_write import record_written, records_written
from ecrf.exceptions import InvalidInput, StaleVersion
from ecrf.validation import validate_for_save
from ecrf.write_guards import check_write, check_writes

# Bookkeeping fields that change on every save; they are not clinical changes.
UNTRACKED_FIELDS = frozenset({"updated_at", "version", "created_at"})


def require_reason(reason: str | None) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise InvalidInput("A reason is required for every change.", field="reason")
    return cleaned


# Plausible dates (issue 13, finding 9): a birth date from 1900 up to today; every other date of
# an audited record (clinical, scheduling, protocol) from 1990 up to 2100. Outside, a typing
# slip (0001-01-01, 20225-01-06) rather than a fact.
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
EARLIEST_RECORD_DATE = dt.date(1990, 1, 1)
LATEST_RECORD_DATE = dt.date(2100, 12, 31)
BOOKKEEPING_DATES = frozenset({"created_at", "updated_at", "voided_at"})


def check_plausible_dates(instance: models.Model) -> None:
    for field in instance._meta.concrete_fields:
        if not isinstance(field, models.DateField) or field.name in BOOKKEEPING_DATES:
            continue
        value = getattr(instance, field.attname)
        if value is None:
            continue
        day = value.date() if isinstance(value, dt.datetime) else value
        if field.name == "birth_date":
            earliest, latest = EARLIEST_BIRTH_DATE, timezone.localdate()
        else:
            earliest, latest = EARLIEST_RECORD_DATE, LATEST_RECORD_DATE
        if not earliest <= day <= latest:
            raise InvalidInput(
                f"{day.isoformat()} is not a plausible date: expected from "
                f"{earliest.isoformat()} to {latest.isoformat()}.",
                field=field.name,
            )


def save_audited(
    instance: models.Model, *, actor, reason: str | None, references_checked: bool = False
) -> models.Model:
    """Validates and saves one record, writing its history row with user and reason, then runs
    what readers of this model registered to follow the write (`ecrf.after_write`).

    `references_checked`: the record is derived by the server from rows it has just read under
    lock (no user input), so its foreign keys and unique constraints are left to the database's
    constraints instead of being asked about first.


    First, what the layers above registered as a precondition of the write (`ecrf.write_guards`:
    a freeze or lock of the data) may refuse it."""
    check_write(instance, actor=actor)
    _checked_for_save(instance, actor=actor, reason=reason, references_checked=references_checked)
    # The record and what is derived from it (e.g. the endpoint assessment) commit together; inside
    # a service's transaction this adds no savepoint.
    with transaction.atomic(savepoint=False):
        instance.save()
        record_written(instance, actor=actor, reason=reason)
    return instance


def _checked_for_save(
    instance: models.Model, *, actor, reason: str | None, references_checked: bool
) -> None:
    """What every audited save checks of the record (after the write guards), and the user and
    reason its history row takes."""
    instance._history_user = actor
    instance._change_reason = reason or None
    check_plausible_dates(instance)
    # full_clean()'s checks, without a query per check constraint or per loaded foreign key.
    validate_for_save(
        instance, unique_checked=references_checked, references_checked=references_checked
    )


def save_many_audited(
    model: type[models.Model],
    *,
    created: list[models.Model],
    updated: list[models.Model],
    update_fields: list[str],
    actor,
    reason: str | None,
    references_checked: bool = False,
) -> list[models.Model]:
    """`save_audited` for many rows of one model in a constant number of statements: the same
    checks per row (the write guards once per what they depend on, `check_writes`), one INSERT
    of the new rows, one UPDATE of `update_fields` of the others, and their history rows in bulk
    with the same user, reason and type ("+" or "~") a save one by one writes; then what readers
    registered (`ecrf.after_write`), once per subject. Returns the rows written, new ones with
    their ids.

    For rows derived by the server (a recompute, a visit calendar), whose `version` the caller
    has already set."""
    written = [*created, *updated]
    check_writes(written, actor=actor)
    for instance in written:
        _checked_for_save(
            instance, actor=actor, reason=reason, references_checked=references_checked
        )
    # One instant for the chunk: the stored `updated_at` and the history rows' dates agree.
    now = timezone.now()
    auto_now = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    for instance in updated:
        for field in auto_now:  # bulk_update does not run the fields' pre_save
            setattr(instance, field.attname, now)
    history = model.history
    with transaction.atomic(savepoint=False):
        if created:
            model._default_manager.bulk_create(created)
            history.bulk_history_create(created, default_date=now, default_change_reason=None)
        if updated:
            fields = [*update_fields, *(f.name for f in auto_now if f.name not in update_fields)]
            model._default_manager.bulk_update(updated, fields)
            history.bulk_history_create(
                updated, update=True, default_date=now, default_change_reason=None
            )
        records_written(written, actor=actor, reason=reason or "record written")
    return written


def check_version(instance: models.Model, expected_version: int | None) -> None:
    if expected_version in (None, ""):
        raise InvalidInput(
            "Send the version you read (field `version` or an If-Match header) with every "
            "update, so concurrent edits cannot overwrite each other.",
            field="version",
        )
    try:
        expected_version = int(expected_version)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("Must be the record's version (an integer).", field="version") from exc
    if expected_version != instance.version:
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


Presenter = Callable[[str, Any], tuple[str, Any]]


def _plain_presenter(instance: models.Model) -> Presenter:
    names = {f.attname: f.name for f in instance._meta.concrete_fields}

    def present(attname: str, value: Any) -> tuple[str, Any]:
        return names.get(attname, attname), _plain(value)

    return present


def _entry_type(record, previous) -> str:
    if record.history_type == "+":
        return "created"
    if record.history_type == "-":
        return "deleted"
    became_void = getattr(record, "is_voided", False) and not getattr(previous, "is_voided", False)
    return "voided" if became_void else "changed"


def history_entries(instance: models.Model, present: Presenter | None = None) -> list[dict]:
    """The record's audit trail, oldest first: who, when, what type, why, old and new values.

    `present(field, value) -> (name, value)` says a stored value as the API says it (its field
    name and format); by default the field's name (`visit`, not `visit_id`) and a plain value.
    """
    present = present or _plain_presenter(instance)
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
                api_name, api_new = present(name, new)
                changes.append({"field": api_name, "old": None, "new": api_new})
            elif old != new:
                api_name, api_old = present(name, old)
                changes.append({"field": api_name, "old": api_old, "new": present(name, new)[1]})
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


def latest_versions(model: type[models.Model], as_of: dt.datetime, **scope) -> models.QuerySet:
    """Each record's history row as it stood at `as_of` (its latest at that instant, deletions
    included), among the records `scope` selects — what a record never changes (its id, its
    patient, its study). Filter the result for what may change (voided, a test code): filtered
    before, a record voided or corrected before the cut would be read as its earlier version.

    On PostgreSQL `DISTINCT ON (id)` in history-date order, a sort whatever the plan; elsewhere
    simple-history's `latest_of_each()` (NOT EXISTS a later row), whose anti-join PostgreSQL
    planned quadratically over bulk-written history (bench/README.md, fourth round)."""
    history = model.history.filter(history_date__lte=as_of, **scope)
    if connection.vendor != "postgresql":
        return history.latest_of_each()
    latest = (
        history.order_by("id", "-history_date", "-history_id").distinct("id").values("history_id")
    )
    return model.history.filter(history_id__in=latest)
