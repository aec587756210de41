"""Cumulative dose per drug and the deviation of doses given from the plan, week by week."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.diagnosis_support import screening_diagnosis
from trials.models import Study

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def on(day1: dt.date, n: int) -> str:
    return str(day1 + dt.timedelta(days=n))


@pytest.fixture
def superclient(client_for, superuser):
    return client_for(superuser)


def setup_arm(make_patient, place_on_arm, client, registry_id, site, arm, day1):
    study = Study.objects.get(registry_id=registry_id)
    patient = place_on_arm(make_patient(study, site, **screening_diagnosis(study)), arm, day1=day1)
    assert client.post(f"/api/patients/{patient.pk}/dosing/plan/").status_code == 201
    return patient


def give(client, patient, drug, start, end, dose_mg, frequency, given=True):
    body = {
        "patient": patient.pk,
        "drug": drug,
        "start_date": start,
        "end_date": end,
        "dose_mg": dose_mg,
        "frequency": frequency,
        "given": given,
    }
    response = client.post("/api/dose-records/", body, format="json")
    assert response.status_code == 201, response.json()


def summary(client, patient, drug) -> dict:
    drugs = client.get(f"/api/patients/{patient.pk}/dosing/").json()["drugs"]
    return next(item for item in drugs if item["drug"] == drug)


def weekly(deviation) -> list[tuple]:
    return [
        (w["week"], w["planned_mg"], w["actual_mg"], w["deviation_percent"])
        for w in deviation["weeks"]
    ]


def test_tacrolimus_given_against_its_weight_based_plan(make_patient, place_on_arm, superclient):
    day1 = TODAY - dt.timedelta(days=30)  # today is day 31, the third day of week 5
    patient = setup_arm(
        make_patient, place_on_arm, superclient, "NCT05471050", "PKUPH", "TAC_DAN", day1
    )
    give(superclient, patient, "tacrolimus", on(day1, 0), on(day1, 13), "1.0", "bid")
    give(superclient, patient, "tacrolimus", on(day1, 14), on(day1, 20), "1.5", "bid")
    give(superclient, patient, "tacrolimus", on(day1, 21), on(day1, 23), "1.5", "bid", given=False)
    give(superclient, patient, "tacrolimus", on(day1, 24), None, "1.0", "bid")

    tacrolimus = summary(superclient, patient, "tacrolimus")

    # 14 days × 2 + 7 × 3 + 3 held + 7 × 2 mg
    assert (tacrolimus["cumulative_mg"], tacrolimus["cumulative_until"]) == ("63.0000", str(TODAY))
    deviation = tacrolimus["deviation"]
    assert weekly(deviation) == [
        (1, "14.0000", "14.0000", "0.0"),
        (2, "14.0000", "14.0000", "0.0"),
        (3, "14.0000", "21.0000", "50.0"),
        (4, "14.0000", "8.0000", "-42.9"),
        (5, "6.0000", "6.0000", "0.0"),  # the week so far
    ]
    assert (deviation["planned_mg"], deviation["actual_mg"], deviation["deviation_percent"]) == (
        "62.0000",
        "63.0000",
        "1.6",
    )


def test_prednisolone_given_against_the_taper(make_patient, place_on_arm, superclient):
    day1 = TODAY - dt.timedelta(days=30)
    patient = setup_arm(
        make_patient, place_on_arm, superclient, "NCT05694130", "PUMCH", "PRED", day1
    )
    # The first taper step came two days late.
    give(superclient, patient, "prednisolone", on(day1, 0), on(day1, 29), "60", "qd")
    give(superclient, patient, "prednisolone", on(day1, 30), None, "50", "qd")

    prednisolone = summary(superclient, patient, "prednisolone")

    assert prednisolone["cumulative_mg"] == "1850.0000"
    deviation = prednisolone["deviation"]
    assert weekly(deviation)[3:] == [
        (4, "420.0000", "420.0000", "0.0"),
        (5, "150.0000", "170.0000", "13.3"),
    ]
    assert deviation["deviation_percent"] == "1.1"


def test_weekly_rituximab_infusions_against_the_plan(make_patient, place_on_arm, superclient):
    day1 = TODAY - dt.timedelta(days=27)  # today closes week 4
    patient = setup_arm(
        make_patient, place_on_arm, superclient, "NCT03304288", "PKUPH", "RTX", day1
    )
    for day in (0, 7, 21):  # the week-3 infusion was missed
        give(superclient, patient, "rituximab", on(day1, day), None, "100", "once")

    rituximab = summary(superclient, patient, "rituximab")

    assert rituximab["cumulative_mg"] == "300.0000"
    deviation = rituximab["deviation"]
    assert [(w, p, a, d) for w, p, a, d in weekly(deviation)] == [
        (1, "100.0000", "100.0000", "0.0"),
        (2, "100.0000", "100.0000", "0.0"),
        (3, "100.0000", "0.0000", "-100.0"),
        (4, "100.0000", "100.0000", "0.0"),
    ]
    assert deviation["deviation_percent"] == "-25.0"


def test_deviation_stops_at_the_end_of_the_planned_treatment(
    make_patient, place_on_arm, superclient
):
    day1 = TODAY - dt.timedelta(days=100)  # danazol is planned for 84 days
    patient = setup_arm(
        make_patient, place_on_arm, superclient, "NCT05471050", "PKUPH", "DAN", day1
    )
    give(superclient, patient, "danazol", on(day1, 0), on(day1, 83), "200", "bid")

    danazol = summary(superclient, patient, "danazol")

    assert danazol["deviation_until"] == on(day1, 83)
    assert len(danazol["deviation"]["weeks"]) == 12
    assert danazol["deviation"]["deviation_percent"] == "0.0"
    assert danazol["cumulative_mg"] == "33600.0000"


def test_a_drug_without_doses_shows_the_whole_plan_missing(make_patient, place_on_arm, superclient):
    day1 = TODAY - dt.timedelta(days=6)
    patient = setup_arm(
        make_patient, place_on_arm, superclient, "NCT03918265", "PUMCH", "TAC", day1
    )

    tacrolimus = summary(superclient, patient, "tacrolimus")

    assert tacrolimus["cumulative_mg"] == "0.0000"
    assert weekly(tacrolimus["deviation"]) == [(1, "14.0000", "0.0000", "-100.0")]


def test_the_overview_reads_with_a_fixed_number_of_queries(
    make_patient, place_on_arm, superclient, record_trough, django_assert_max_num_queries
):
    day1 = TODAY - dt.timedelta(days=30)
    patient = setup_arm(
        make_patient, place_on_arm, superclient, "NCT05471050", "PKUPH", "TAC_DAN", day1
    )
    for week in range(4):
        start, end = on(day1, 7 * week), on(day1, 7 * week + 6)
        give(superclient, patient, "tacrolimus", start, end, "1.0", "bid")
        give(superclient, patient, "danazol", start, end, "200", "bid")
    give(superclient, patient, "tacrolimus", on(day1, 28), None, "1.0", "bid")
    record_trough(patient, "2.0", on=TODAY - dt.timedelta(days=1))
    url = f"/api/patients/{patient.pk}/dosing/tacrolimus/decisions/"
    proposal = superclient.get(f"/api/patients/{patient.pk}/dosing/tacrolimus/proposal/").json()
    decision = {
        "decision": "accept",
        "trough_result": proposal["trough_result"],
        "dose_record": proposal["dose_record"],
    }
    assert superclient.post(url, decision, format="json").status_code == 201

    # token with user, patient, plans, taper weeks, records, adjustments, decisions
    with django_assert_max_num_queries(7):
        response = superclient.get(f"/api/patients/{patient.pk}/dosing/")

    body = response.json()
    assert (len(body["dose_records"]), len(body["adjustments"])) == (10, 1)
    assert len(body["titration_decisions"]) == 1
