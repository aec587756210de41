"""Audited saves check constraints in Python (ecrf/validation.py), as PostgreSQL would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext

from ecrf.validation import evaluate, validate_for_save
from visits.findings.models import VitalSigns
from visits.labs.models import LabResult


def lab(**values) -> LabResult:
    return LabResult(**values)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"lln": Decimal("1"), "uln": Decimal("2")}, True),
        ({"lln": Decimal("3"), "uln": Decimal("2")}, False),
        ({"lln": None, "uln": Decimal("2")}, None),  # NULL compared: unknown
    ],
)
def test_a_comparison_follows_sql_three_valued_logic(values, expected):
    assert evaluate(Q(lln__lte=F("uln")), lab(**values)) is expected


def test_or_and_not_combine_unknowns_as_sql_does():
    row = lab(lln=None, uln=Decimal("2"))
    assert evaluate(Q(lln__isnull=True) | Q(lln__lte=F("uln")), row) is True
    assert evaluate(Q(lln__gt=1) | Q(uln__lt=1), row) is None
    assert evaluate(Q(lln__gt=1) & Q(uln__lt=1), row) is False
    assert evaluate(~Q(lln__gt=1), row) is None
    assert evaluate(Q(test_code__in=["PLAT", "HGB"]), lab(test_code="HGB")) is True
    assert evaluate(Q(test_code="PLAT"), lab(test_code="HGB")) is False


@pytest.mark.django_db
def test_a_violated_check_is_reported_without_asking_the_database(study, make_patient):
    patient = make_patient(study, "PKUPH")
    row = LabResult(
        patient=patient,
        collected_at=dt.datetime(2025, 2, 1, 8, tzinfo=dt.UTC),
        test_code="ALT",
        value=Decimal("30"),
        unit="U/L",
        lln=Decimal("50"),
        uln=Decimal("40"),
        value_std=Decimal("30"),
        unit_std="U/L",
    )
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError) as error:
        validate_for_save(row)
    assert error.value.messages == ["The lower limit is above the upper limit."]
    assert len(queries) == 0


@pytest.mark.django_db
def test_a_condition_with_an_empty_row_is_refused_like_full_clean(study, make_patient):
    patient = make_patient(study, "PKUPH")
    empty = VitalSigns(patient=patient, measured_on=dt.date(2025, 2, 1))
    with pytest.raises(ValidationError) as ours:
        validate_for_save(empty)
    with pytest.raises(ValidationError) as djangos:
        empty.full_clean()
    assert ours.value.message_dict == djangos.value.message_dict
