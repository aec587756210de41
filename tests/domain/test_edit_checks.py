"""Issue 14: edit checks as pure rules — parsing the protocol's section and evaluating it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ecrf.domain.edit_checks import (
    DatedFact,
    Finding,
    LabFact,
    PatientFacts,
    VisitFact,
    evaluate_edit_checks,
    parse_edit_checks,
    reads_of,
)
from ecrf.domain.errors import DomainError

VISITS = {"D1", "W4"}
D = dt.date


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"code": "x", "kind": "guess"}, "c.0.kind", "must be one of"),
        ({"code": "1x", "kind": "visit_window"}, "c.0.code", "must start with a letter"),
        ({"code": "x", "kind": "visit_window", "test_code": "P"}, "c.0.test_code", "unknown key"),
        ({"code": "x", "kind": "lab_range", "test_code": "PLAT"}, "c.0", "give low, high or both"),
        ({"code": "x", "kind": "lab_range", "test_code": "XYZ", "low": 1}, "c.0.test_code", ""),
        ({"code": "x", "kind": "lab_range", "test_code": "PLAT", "low": "a"}, "c.0.low", "number"),
        ({"code": "x", "kind": "lab_range", "test_code": "PLAT", "low": 5, "high": 1}, "c.0.low",
         "must not be above high"),
        ({"code": "x", "kind": "required_labs", "visits": ["W9"], "test_codes": ["PLAT"]},
         "c.0.visits.0", "no visit 'W9'"),
        ({"code": "x", "kind": "required_labs", "visits": [], "test_codes": ["PLAT"]},
         "c.0.visits", "non-empty list"),
        ({"code": "x", "kind": "date_order", "earlier": "birth", "later": "ae_onset"},
         "c.0.earlier", "must be one of consent, day1"),
        ({"code": "x", "kind": "date_order", "earlier": "consent", "later": "death"},
         "c.0.later", "must be one of ae_onset, dose_start"),
    ],
)  # fmt: skip
def test_a_bad_check_is_refused_naming_its_path(raw, field, message):
    with pytest.raises(DomainError) as error:
        parse_edit_checks([raw], "c", VISITS)
    assert error.value.field == field
    assert message in error.value.message


def test_duplicate_codes_are_refused():
    raw = [{"code": "w", "kind": "visit_window"}, {"code": "w", "kind": "visit_window"}]
    with pytest.raises(DomainError) as error:
        parse_edit_checks(raw, "c", VISITS)
    assert (error.value.field, error.value.message) == ("c.1.code", "duplicate code")


CHECKS = parse_edit_checks(
    [
        {"code": "plt", "kind": "lab_range", "test_code": "PLAT", "low": 0, "high": 1500},
        {"code": "window", "kind": "visit_window", "message": "Out of window"},
        {"code": "need", "kind": "required_labs", "visits": ["W4"], "test_codes": ["PLAT", "HGB"]},
        {"code": "ae", "kind": "date_order", "earlier": "consent", "later": "ae_onset"},
        {"code": "dose", "kind": "date_order", "earlier": "day1", "later": "dose_start"},
    ],
    "c",
    VISITS,
)


def test_reads_name_the_facts_each_check_needs():
    assert [sorted(reads_of(c)) for c in CHECKS] == [
        ["labs"],
        ["visits"],
        ["labs", "visits"],
        ["adverse_events", "consents"],
        ["doses", "patient"],
    ]


def test_every_kind_finds_what_it_should_and_nothing_else():
    facts = PatientFacts(
        patient_id=1,
        day1=D(2025, 1, 10),
        consent=D(2025, 1, 5),
        labs=[
            LabFact(11, "PLAT", Decimal("2500"), "10^9/L", 21),
            LabFact(12, "PLAT", Decimal("1500"), "10^9/L", 22),
            LabFact(13, "HGB", Decimal("100"), "g/L", 22),
        ],
        visits=[
            VisitFact(21, "D1", True, D(2025, 1, 10), D(2025, 1, 10), D(2025, 1, 10)),
            VisitFact(22, "W4", True, D(2025, 2, 14), D(2025, 2, 4), D(2025, 2, 10)),
        ],
        adverse_events=[DatedFact(31, D(2025, 1, 4)), DatedFact(32, D(2025, 1, 5))],
        doses=[DatedFact(41, D(2025, 1, 9)), DatedFact(42, D(2025, 1, 10))],
    )  # fmt: skip
    assert evaluate_edit_checks(CHECKS, facts) == [
        Finding("plt", "lab-results", 11, "value", "PLAT 2500 10^9/L is outside 0 to 1500 10^9/L"),
        Finding(
            "window",
            "visits",
            22,
            "actual_date",
            "Out of window (visit W4 on 2025-02-14 is outside its window 2025-02-04 to 2025-02-10)",
        ),
        Finding(
            "ae", "adverse-events", 31, "onset_date", "2025-01-04 is before consent on 2025-01-05"
        ),
        Finding(
            "dose",
            "dose-records",
            41,
            "start_date",
            "2025-01-09 is before randomization (day 1) on 2025-01-10",
        ),
    ]  # fmt: skip


def test_a_missing_measurement_at_a_completed_visit_only():
    facts = PatientFacts(
        patient_id=1,
        labs=[LabFact(12, "PLAT", Decimal("50"), "10^9/L", 22)],
        visits=[
            VisitFact(22, "W4", True, D(2025, 2, 8), D(2025, 2, 4), D(2025, 2, 10)),
            VisitFact(23, "W4", False, None, D(2025, 2, 4), D(2025, 2, 10)),
        ],
    )  # fmt: skip
    assert evaluate_edit_checks([CHECKS[2]], facts) == [
        Finding("need", "visits", 22, "", "visit W4 has no result of HGB")
    ]


def test_dates_in_order_or_unknown_find_nothing():
    facts = PatientFacts(patient_id=1, adverse_events=[DatedFact(31, D(2020, 1, 1))])
    assert evaluate_edit_checks(CHECKS[3:], facts) == []  # no consent, no day 1 yet
