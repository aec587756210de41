"""What must hold before an audited record is written, declared by the layer that knows.

The recorders (labs, findings, visits, patients, ...) must not know who may forbid a write: a
freeze or lock of the data is declared by the review app, above them all. It registers, once, in
its `AppConfig.ready()`, which models it guards and a check that raises (e.g. a 409 naming the
lock) when the write must not happen:

    register_write_guard("freeze and lock", models=GUARDED_MODELS, check=refuse_locked_write)

`ecrf.audit.save_audited` — the one save of every service, view, admin action and command, and
so of `update_audited` and `void_audited` too — calls `check_write()` before each save; a bulk
insert (the lab import) calls `check_writes()` before its insert. A guard whose answer depends
only on what a record belongs to (a patient, a visit) names that with `target_of`, and a bulk
write then asks it once per target, not once per row. Like `ecrf.after_write`, this
is one explicit registry keyed by model, not a Django signal.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class WriteGuard:
    """`check(instance, actor=)` before a write to one of `models`; it raises a
    `ecrf.exceptions.ServiceError` to refuse the write (nothing is stored)."""

    name: str
    models: frozenset[type[models.Model]]
    check: Callable[..., None]
    # What the answer depends on (hashable); None: every record is checked on its own.
    target_of: Callable[[models.Model], Hashable] | None = None


_guards: dict[str, WriteGuard] = {}


def register_write_guard(
    name: str,
    *,
    models: Iterable[type[models.Model]],
    check: Callable[..., None],
    target_of: Callable[[models.Model], Hashable] | None = None,
) -> WriteGuard:
    """Registers (or, under the same name, replaces — `ready()` may run twice) one guard."""
    guard = WriteGuard(name=name, models=frozenset(models), check=check, target_of=target_of)
    _guards[name] = guard
    return guard


def registered_guards() -> list[WriteGuard]:
    return list(_guards.values())


def check_write(instance: models.Model, *, actor) -> None:
    """Runs every guard of this record's model; the first refusal propagates."""
    model = type(instance)
    for guard in _guards.values():
        if model in guard.models:
            guard.check(instance, actor=actor)


def check_writes(instances: Iterable[models.Model], *, actor) -> None:
    """`check_write` for rows written in bulk, in their order: the first refusal propagates. A
    guard with a `target_of` is asked about the first record of each target only (the others
    would get the same answer)."""
    asked: set[tuple[str, Hashable]] = set()
    for instance in instances:
        for guard in _guards.values():
            if type(instance) not in guard.models:
                continue
            if guard.target_of is not None:
                key = (guard.name, guard.target_of(instance))
                if key in asked:
                    continue
                asked.add(key)
            guard.check(instance, actor=actor)
