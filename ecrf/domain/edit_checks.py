"""Edit checks: rules over one patient's entered data that raise queries by themselves.

Declared in a protocol version's `edit_checks` section (validated by `parse_edit_checks`, called
by the protocol parser) and evaluated by `evaluate_edit_checks` over plain facts of one patient.
A finding names the record (as the API's paths do), the field and why; the review app raises a
query per finding and closes the query when its finding is gone (the data were corrected).

Kinds:
- `lab_range`: a lab result of `test_code` outside `low`..`high` (standard unit);
- `visit_window`: a completed visit done outside its window;
- `required_labs`: a completed visit of `visits` without a result of each of `test_codes`;
- `date_order`: `later` (ae_onset, dose_start) before `earlier` (consent, day1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ecrf.domain.errors import DomainError
from ecrf.domain.units import lab_test

KINDS = ("lab_range", "visit_window", "required_labs", "date_order")
EARLIER_DATES = ("consent", "day1")
LATER_DATES = ("ae_onset", "dose_start")
# What each kind reads, so a write re-evaluates only the checks its record can change.
READS = {
    "lab_range": frozenset({"labs"}),
    "visit_window": frozenset({"visits"}),
    "required_labs": frozenset({"labs", "visits"}),
}
LATER_READS = {"ae_onset": "adverse_events", "dose_start": "doses"}
EARLIER_READS = {"consent": "consents", "day1": "patient"}


def _path(prefix: str, key: str | int) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _number(raw: dict, key: str, prefix: str) -> str | None:
    if key not in raw or raw[key] is None:
        return None
    try:
        return str(Decimal(str(raw[key])))
    except InvalidOperation as exc:
        raise DomainError(_path(prefix, key), "must be a number") from exc


def _codes(raw: dict, key: str, prefix: str) -> list[str]:
    value = raw.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise DomainError(_path(prefix, key), "must be a non-empty list of codes")
    return list(value)


def _one(raw: Any, prefix: str, visit_codes: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DomainError(prefix, "must be a mapping")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise DomainError(_path(prefix, "kind"), f"must be one of {', '.join(KINDS)}")
    keys = {"code", "kind", "message"} | {
        "lab_range": {"test_code", "low", "high"},
        "visit_window": set(),
        "required_labs": {"visits", "test_codes"},
        "date_order": {"earlier", "later"},
    }[kind]
    for key in raw:
        if key not in keys:
            raise DomainError(
                _path(prefix, key), f"unknown key (allowed: {', '.join(sorted(keys))})"
            )
    code = raw.get("code")
    if not isinstance(code, str) or not code.replace("_", "").isalnum() or not code[:1].isalpha():
        raise DomainError(_path(prefix, "code"), "must start with a letter (letters, digits, _)")
    check: dict[str, Any] = {"code": code, "kind": kind, "message": str(raw.get("message", ""))}
    if kind == "lab_range":
        lab_test(str(raw.get("test_code", "")), field=_path(prefix, "test_code"))
        low, high = _number(raw, "low", prefix), _number(raw, "high", prefix)
        if low is None and high is None:
            raise DomainError(prefix, "give low, high or both")
        if low is not None and high is not None and Decimal(low) > Decimal(high):
            raise DomainError(_path(prefix, "low"), "must not be above high")
        check |= {"test_code": raw["test_code"], "low": low, "high": high}
    elif kind == "required_labs":
        visits = _codes(raw, "visits", prefix)
        for index, visit in enumerate(visits):
            if visit not in visit_codes:
                raise DomainError(_path(_path(prefix, "visits"), index), f"no visit {visit!r}")
        tests = _codes(raw, "test_codes", prefix)
        for index, test in enumerate(tests):
            lab_test(test, field=_path(_path(prefix, "test_codes"), index))
        check |= {"visits": visits, "test_codes": tests}
    elif kind == "date_order":
        if raw.get("earlier") not in EARLIER_DATES:
            raise DomainError(
                _path(prefix, "earlier"), f"must be one of {', '.join(EARLIER_DATES)}"
            )
        if raw.get("later") not in LATER_DATES:
            raise DomainError(_path(prefix, "later"), f"must be one of {', '.join(LATER_DATES)}")
        check |= {"earlier": raw["earlier"], "later": raw["later"]}
    return check


def parse_edit_checks(raw: Any, prefix: str, visit_codes: set[str]) -> list[dict[str, Any]]:
    """The validated checks of a version (DomainError naming the path of the first fault)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DomainError(prefix, "must be a list of mappings")
    checks = [_one(item, _path(prefix, index), visit_codes) for index, item in enumerate(raw)]
    seen: set[str] = set()
    for index, check in enumerate(checks):
        if check["code"] in seen:
            raise DomainError(_path(_path(prefix, index), "code"), "duplicate code")
        seen.add(check["code"])
    return checks


def reads_of(check: dict[str, Any]) -> frozenset[str]:
    """The kinds of facts a check reads (labs, visits, adverse_events, doses, consents,
    patient)."""
    if check["kind"] == "date_order":
        return frozenset({EARLIER_READS[check["earlier"]], LATER_READS[check["later"]]})
    return READS[check["kind"]]


# --- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabFact:
    id: int
    test_code: str
    value_std: Decimal
    unit_std: str
    visit_id: int | None


@dataclass(frozen=True)
class VisitFact:
    id: int
    code: str
    completed: bool
    actual_date: dt.date | None
    window_start: dt.date | None
    window_end: dt.date | None


@dataclass(frozen=True)
class DatedFact:
    id: int
    on: dt.date


@dataclass
class PatientFacts:
    patient_id: int
    day1: dt.date | None = None
    consent: dt.date | None = None
    labs: list[LabFact] = field(default_factory=list)
    visits: list[VisitFact] = field(default_factory=list)
    adverse_events: list[DatedFact] = field(default_factory=list)
    doses: list[DatedFact] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str
    record_id: int
    field: str
    text: str


def _text(check: dict, default: str) -> str:
    return f"{check['message']} ({default})" if check["message"] else default


def _lab_range(check: dict, facts: PatientFacts) -> list[Finding]:
    low = None if check["low"] is None else Decimal(check["low"])
    high = None if check["high"] is None else Decimal(check["high"])
    found = []
    for lab in facts.labs:
        if lab.test_code != check["test_code"]:
            continue
        if (low is not None and lab.value_std < low) or (high is not None and lab.value_std > high):
            limits = f"{check['low'] or '—'} to {check['high'] or '—'} {lab.unit_std}"
            why = (
                f"{lab.test_code} {lab.value_std.normalize():f} {lab.unit_std} is outside {limits}"
            )
            found.append(Finding(check["code"], "lab-results", lab.id, "value", _text(check, why)))
    return found


def _visit_window(check: dict, facts: PatientFacts) -> list[Finding]:
    found = []
    for visit in facts.visits:
        if not visit.completed or visit.actual_date is None or visit.window_start is None:
            continue
        if not visit.window_start <= visit.actual_date <= visit.window_end:
            why = (
                f"visit {visit.code} on {visit.actual_date.isoformat()} is outside its window "
                f"{visit.window_start.isoformat()} to {visit.window_end.isoformat()}"
            )
            found.append(
                Finding(check["code"], "visits", visit.id, "actual_date", _text(check, why))
            )
    return found


def _required_labs(check: dict, facts: PatientFacts) -> list[Finding]:
    found = []
    for visit in facts.visits:
        if not visit.completed or visit.code not in check["visits"]:
            continue
        present = {lab.test_code for lab in facts.labs if lab.visit_id == visit.id}
        missing = [test for test in check["test_codes"] if test not in present]
        if missing:
            why = f"visit {visit.code} has no result of {', '.join(missing)}"
            found.append(Finding(check["code"], "visits", visit.id, "", _text(check, why)))
    return found


def _date_order(check: dict, facts: PatientFacts) -> list[Finding]:
    earlier = facts.consent if check["earlier"] == "consent" else facts.day1
    if earlier is None:
        return []
    records, resource, field_name = {
        "ae_onset": (facts.adverse_events, "adverse-events", "onset_date"),
        "dose_start": (facts.doses, "dose-records", "start_date"),
    }[check["later"]]
    what = {"consent": "consent", "day1": "randomization (day 1)"}[check["earlier"]]
    return [
        Finding(
            check["code"],
            resource,
            record.id,
            field_name,
            _text(check, f"{record.on.isoformat()} is before {what} on {earlier.isoformat()}"),
        )
        for record in records
        if record.on < earlier
    ]


EVALUATORS = {
    "lab_range": _lab_range,
    "visit_window": _visit_window,
    "required_labs": _required_labs,
    "date_order": _date_order,
}


def evaluate_edit_checks(checks: list[dict[str, Any]], facts: PatientFacts) -> list[Finding]:
    """Every finding of `checks` over one patient's facts, in the checks' order."""
    return [finding for check in checks for finding in EVALUATORS[check["kind"]](check, facts)]
