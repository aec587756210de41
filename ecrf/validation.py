"""Model validation before an audited save, without a round trip per constraint.

`Model.full_clean()` asks the database about every check constraint (`SELECT 1 WHERE ...` in a
savepoint: three statements each) and about every foreign key (`SELECT 1 ... WHERE id = ...`),
on every save. `validate_for_save` gives the same answers with fewer statements:

- a check constraint is evaluated in Python when its condition is made of plain lookups on the
  row's own fields (`isnull`, `exact`, `lt`, `lte`, `gt`, `gte`, `in`, with `F()` of the same row,
  combined with `&`, `|`, `~`), with SQL's three-valued logic (an unknown result passes, as in
  the database); any other condition is asked of the database as before;
- a conditional unique constraint whose condition is false for the row is not asked about;
- a foreign key whose target was loaded from the database in this request (the related object is
  cached on the instance) is not looked up again.

The database's own constraints stay in place; this only avoids asking twice.
"""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.constraints import CheckConstraint, UniqueConstraint
from django.utils.dateparse import parse_date, parse_datetime

_COMPARISONS = {
    "exact": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


class _NotPlain(Exception):
    """The condition needs the database (a join, a function, an unknown lookup)."""


def _value(instance: models.Model, name: str) -> Any:
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist as error:
        raise _NotPlain(name) from error
    if not getattr(field, "concrete", False) or field.many_to_many:
        raise _NotPlain(name)
    return getattr(instance, field.attname)


def _lookup(instance: models.Model, key: str, expected: Any) -> bool | None:
    name, _, lookup = key.partition("__")
    lookup = lookup or "exact"
    if "__" in lookup:
        raise _NotPlain(key)
    value = _value(instance, name)
    if isinstance(expected, F):
        expected = _value(instance, expected.name)
    elif hasattr(expected, "resolve_expression"):
        raise _NotPlain(key)
    if lookup == "isnull":
        return (value is None) == bool(expected)
    if lookup == "exact" and expected is None:
        return value is None  # Django writes `= None` as IS NULL
    if value is None or expected is None:
        return None  # SQL: a comparison with NULL is unknown
    if lookup == "in":
        choices = list(expected)
        if value in choices:
            return True
        return None if None in choices else False
    if lookup not in _COMPARISONS:
        raise _NotPlain(key)
    return _COMPARISONS[lookup](value, expected)


def evaluate(condition: Q, instance: models.Model) -> bool | None:
    """True, False or None (unknown) for the row, as PostgreSQL would evaluate the condition."""
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(evaluate(child, instance))
        elif isinstance(child, tuple) and len(child) == 2:
            results.append(_lookup(instance, *child))
        else:
            raise _NotPlain(repr(child))
    if condition.connector == Q.AND:
        combined = False if False in results else (None if None in results else True)
    else:
        combined = True if True in results else (None if None in results else False)
    if condition.negated:
        return None if combined is None else not combined
    return combined


def _check_holds(constraint: CheckConstraint, model, instance, exclude, using) -> None:
    try:
        outcome = evaluate(constraint.condition, instance)
    except _NotPlain:
        constraint.validate(model, instance, exclude=exclude, using=using)
        return
    if outcome is False and not _mentions_excluded(constraint.condition, exclude):
        raise ValidationError(
            constraint.get_violation_error_message(), code=constraint.violation_error_code
        )


def _mentions_excluded(condition: Q, exclude: set[str]) -> bool:
    for child in condition.children:
        if isinstance(child, Q):
            if _mentions_excluded(child, exclude):
                return True
        else:
            key, expected = child
            names = {key.split("__")[0]}
            if isinstance(expected, F):
                names.add(expected.name)
            if names & exclude:
                return True
    return False


def _unique_applies(constraint: UniqueConstraint, instance: models.Model) -> bool:
    if constraint.condition is None:
        return True
    try:
        return evaluate(constraint.condition, instance) is not False
    except _NotPlain:
        return True


def _validate_constraints(
    instance: models.Model, exclude: set[str], *, unique_checked: bool = False
) -> None:
    using = instance._state.db or "default"
    errors: dict = {}
    for model, constraints in instance.get_constraints():
        for constraint in constraints:
            try:
                if isinstance(constraint, CheckConstraint):
                    _check_holds(constraint, model, instance, exclude, using)
                elif isinstance(constraint, UniqueConstraint) and (
                    unique_checked or not _unique_applies(constraint, instance)
                ):
                    continue
                else:
                    constraint.validate(model, instance, exclude=exclude, using=using)
            except ValidationError as error:
                fields = getattr(constraint, "fields", ())
                if getattr(error, "code", None) == "unique" and len(fields) == 1:
                    errors.setdefault(fields[0], []).append(error)
                else:
                    errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _loaded_foreign_keys(instance: models.Model) -> set[str]:
    """Foreign keys whose target object is cached on the instance and came from the database."""
    loaded = set()
    for field in instance._meta.concrete_fields:
        if not (field.many_to_one or field.one_to_one) or not field.is_cached(instance):
            continue
        target = field.get_cached_value(instance)
        if (
            target is not None
            and target.pk is not None
            and target._state.db is not None
            and getattr(instance, field.attname) == target.pk
        ):
            loaded.add(field.name)
    return loaded


def validate_for_save(
    instance: models.Model, *, unique_checked: bool = False, references_checked: bool = False
) -> None:
    """What `full_clean()` checks, with the statements it can spare spared.

    `unique_checked`: the caller has checked uniqueness itself, in bulk and under a lock (the
    lab import's accessions); the unique constraints are then not asked about row by row.
    `references_checked`: the foreign keys name rows the caller has just read (the database's
    constraints remain the check); no lookup per foreign key."""
    skip_lookup = _loaded_foreign_keys(instance)
    if references_checked:
        skip_lookup |= {
            f.name for f in instance._meta.concrete_fields if f.many_to_one or f.one_to_one
        }
    errors: dict = {}
    try:
        instance.clean_fields(exclude=skip_lookup)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        instance.clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    failed = set(errors) - {NON_FIELD_ERRORS}
    if not unique_checked:
        try:
            instance.validate_unique(exclude=failed)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    try:
        _validate_constraints(instance, failed, unique_checked=unique_checked)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def parse_date_or_datetime(raw: str) -> dt.date | dt.datetime | None:
    """An ISO date (`2025-03-04`) or datetime (`2025-03-04T08:30:00+08:00`) from a query
    parameter or option; None when it is neither, well formed but impossible (`12:99`,
    `2025-02-30`) included, so the caller answers a 400 naming its field rather than a 500."""
    text = raw.strip()
    try:
        return parse_datetime(text) if "T" in text or " " in text else parse_date(text)
    except ValueError:
        return None
