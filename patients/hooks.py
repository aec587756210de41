"""What patients need from the apps recorded over a patient's course, without importing them.

`patients` sits below `visits` (import-linter's layers): eligibility reads recorded labs and ECOG
scores, and an allocation creates the visit calendar and re-derives the lab grade suggestions,
yet `patients` may not import `visits`. So `patients` offers two small registries here, and the
apps above fill them in their `AppConfig.ready()` — explicit calls, not Django signals:

- `register_eligibility_input(fact, read=)`: how to read one fact of `PatientFacts` that is
  recorded above (`ecog`, `labs`). `read(patient, on, test_codes)` returns the fact as of the
  end of `on`. A fact nobody registered is a configuration error, never a silent "unknown".
- `register_after_allocation(name, order=, run=)`: what must happen in the allocation's
  transaction once the patient has an arm and a day 1. `run(actor=, patient=, day1=,
  protocol_version=, reason=)`. Hooks run by ascending `order` (the calendar before the lab
  regrade), never by registration order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# The facts of `ecrf.domain.eligibility.PatientFacts` that are recorded in other apps.
RECORDED_FACTS = frozenset({"ecog", "labs"})

_eligibility_inputs: dict[str, Callable[..., Any]] = {}


def register_eligibility_input(fact: str, *, read: Callable[..., Any]) -> None:
    """Registers (or, on a second `ready()`, replaces) the reader of one recorded fact."""
    if fact not in RECORDED_FACTS:
        raise ImproperlyConfigured(
            f"Unknown eligibility fact {fact!r} (known: {', '.join(sorted(RECORDED_FACTS))})."
        )
    _eligibility_inputs[fact] = read


def read_eligibility_input(fact: str, patient, on: dt.date, test_codes: set[str] | None) -> Any:
    """The fact as recorded for the patient at the end of `on` (voided records ignored)."""
    try:
        read = _eligibility_inputs[fact]
    except KeyError:
        raise ImproperlyConfigured(
            f"No app registered the eligibility fact {fact!r}: is the app that records it in "
            "INSTALLED_APPS?"
        ) from None
    return read(patient, on, test_codes)


@dataclass(frozen=True)
class AfterAllocation:
    name: str
    order: int
    run: Callable[..., None]


_after_allocation: dict[str, AfterAllocation] = {}

# Allocation without them would leave a patient with no calendar: they must be registered.
REQUIRED_AFTER_ALLOCATION = frozenset({"visit calendar"})


def register_after_allocation(name: str, *, order: int, run: Callable[..., None]) -> None:
    """Registers (or, under the same name, replaces) one step run after every allocation."""
    _after_allocation[name] = AfterAllocation(name=name, order=order, run=run)


def after_allocation_hooks() -> list[AfterAllocation]:
    """The registered steps in their declared order (ties by name, so the order is stable)."""
    missing = REQUIRED_AFTER_ALLOCATION - _after_allocation.keys()
    if missing:
        raise ImproperlyConfigured(
            f"No app registered the allocation step(s) {', '.join(sorted(missing))}."
        )
    return sorted(_after_allocation.values(), key=lambda hook: (hook.order, hook.name))
