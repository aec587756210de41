"""What an audited write sets off, declared once by the layer that depends on the written data.

The recorders (labs, findings, visits, patients, ...) must not know who reads their records: an
arrow from a recorder up to the endpoints app would make every recorder depend on the assessor.
Instead the reader registers, once, in its `AppConfig.ready()`, which models it reads and what
to do after one of them is written:

    register_after_write(
        "endpoint assessment",
        models=ASSESSED_MODELS,
        subject_of=patient_id_of,
        run=refresh_assessments,
    )

`ecrf.audit.save_audited` — the one place every audited record is saved, API, admin, bulk import
and management commands alike — calls `record_written()` after each save, in the same
transaction. This is not a Django signal: there is one explicit registry, filled in one known
place, keyed by model, and it only runs for audited saves.

A service that saves many rows (a visit calendar, a bulk lab import, a regrade) wraps them in
`deferred_after_writes()`: subjects are collected and each hook runs once per subject at the end
of the block, still inside the caller's transaction.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import models, transaction


@dataclass(frozen=True)
class AfterWrite:
    """`run(subjects, actor=, reason=)` after a write to one of `models`; `subject_of(record)`
    names what the write affects (e.g. the patient id), or None when it affects nothing."""

    name: str
    models: frozenset[type[models.Model]]
    subject_of: Callable[[models.Model], Hashable | None]
    run: Callable[..., None]


_hooks: dict[str, AfterWrite] = {}


def register_after_write(
    name: str,
    *,
    models: Iterable[type[models.Model]],
    subject_of: Callable[[models.Model], Hashable | None],
    run: Callable[..., None],
) -> AfterWrite:
    """Registers (or, under the same name, replaces — `ready()` may run twice) one hook."""
    hook = AfterWrite(name=name, models=frozenset(models), subject_of=subject_of, run=run)
    _hooks[name] = hook
    return hook


def registered_hooks() -> list[AfterWrite]:
    return list(_hooks.values())


@dataclass
class _Batch:
    actor: object
    reason: str
    subjects: dict[str, set] = field(default_factory=dict)


_batch: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar(
    "deferred_after_writes", default=None
)


def _hooks_for(model: type[models.Model]) -> list[AfterWrite]:
    return [hook for hook in _hooks.values() if model in hook.models]


def record_written(instance: models.Model, *, actor, reason: str | None) -> None:
    """Runs (or, inside `deferred_after_writes`, collects) the hooks for this record's model."""
    for hook in _hooks_for(type(instance)):
        subject = hook.subject_of(instance)
        if subject is None:
            continue
        batch = _batch.get()
        if batch is not None:
            batch.subjects.setdefault(hook.name, set()).add(subject)
        else:
            hook.run({subject}, actor=actor, reason=reason or "record written")


@contextlib.contextmanager
def deferred_after_writes(*, actor, reason: str) -> Iterator[None]:
    """Within the block, hooks are collected; each runs once per subject when the block ends.

    Use it inside the caller's transaction. A nested block joins the outer one. If the block
    raises, nothing runs (the transaction is being rolled back anyway).
    """
    if _batch.get() is not None:
        yield
        return
    batch = _Batch(actor=actor, reason=reason)
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    # In the caller's transaction; a caller outside one (a script, a fixture) still gets the
    # hooks' row locks and writes in a transaction of their own, never in autocommit.
    with transaction.atomic(savepoint=False):
        for name, subjects in batch.subjects.items():
            hook = _hooks.get(name)
            if hook is not None and subjects:
                hook.run(subjects, actor=batch.actor, reason=batch.reason)


def records_written(instances: Iterable[models.Model], *, actor, reason: str) -> None:
    """For rows written in bulk with their history rows (not one by one through `save_audited`):
    the hooks of every affected subject run once, as after a `deferred_after_writes` block."""
    with deferred_after_writes(actor=actor, reason=reason):
        for instance in instances:
            record_written(instance, actor=actor, reason=reason)
