"""The patient's casebook page: every section, preselected links, bounded queries (issue 10)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from visits.casebook import criterion_in_words, patient_casebook, plain_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def patient(multisite_study, make_patient, screen_eligible):
    return screen_eligible(make_patient(multisite_study, "PKUPH"))


def casebook_url(patient) -> str:
    return f"/admin/patients/patient/{patient.pk}/casebook/"


def test_the_patient_page_links_its_casebook(coordinator, patient):
    client = Client()
    client.force_login(coordinator)
    html = client.get(f"/admin/patients/patient/{patient.pk}/change/").content.decode()
    assert casebook_url(patient) in html


def test_casebook_shows_each_section_with_links_preselecting_the_patient(coordinator, patient):
    client = Client()
    client.force_login(coordinator)
    response = client.get(casebook_url(patient))
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("summary", "eligibility", "visits", "labs", "adverse-events", "doses",
                    "bleeding-rescue", "chart", "responses", "audit-trail"):  # fmt: skip
        assert f'id="{section}"' in html
    assert f"/admin/labs/labresult/add/?patient={patient.pk}" in html
    assert f"/admin/safety/adverseevent/add/?patient={patient.pk}" in html
    assert "version 1.0 signed 2025-01-03" in html  # the consent of screen_eligible
    # Numbers without trailing zeros, eligibility in words, times with their zone.
    assert "165 cm, 60 kg" in html
    assert "True" not in html and "False" not in html
    assert "meets" in html and " UTC" in html
    assert "<td>scheduled</td>" not in html  # not randomized yet: no calendar


def test_casebook_queries_do_not_grow_with_the_records(patient, record_lab):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            patient_casebook(patient)
        return len(queries)

    before = count()
    for day in range(7, 12):
        record_lab(patient, "PLAT", "45", "10^9/L", on=dt.date(2025, 1, day), lln="150", uln="400")
    assert count() == before == 18  # 9 kinds of record + their 9 history tables


@pytest.mark.parametrize(
    ("kind", "met", "words"),
    [
        ("inclusion", True, ("passes", "meets")),
        ("inclusion", False, ("fails", "does not meet")),
        ("exclusion", False, ("passes", "does not apply")),
        ("exclusion", True, ("fails", "applies (excluded)")),
        ("exclusion", None, ("open", "not yet known")),
    ],
)
def test_criteria_read_in_words(kind, met, words):
    assert criterion_in_words(kind, met) == words


@pytest.mark.parametrize(
    ("value", "shown"),
    [("25.0000", "25"), ("1.2500", "1.25"), ("100", "100"), ("0.0010", "0.001"), ("1E+2", "100")],
)
def test_numbers_lose_trailing_zeros(value, shown):
    assert plain_number(Decimal(value)) == shown
