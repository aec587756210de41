"""Planned doses from the protocol: fixed, mg/kg and mg/m² doses, rounding, tapers, re-plans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ecrf.audit import save_audited
from tests.diagnosis_support import screening_diagnosis
from trials.models import Study
from visits.dosing.models import DosePlan, TaperWeek

pytestmark = pytest.mark.django_db

D = Decimal
DAY1 = timezone.localdate() - dt.timedelta(days=20)


@pytest.fixture
def investigator(make_user):
    def make(registry_id: str):
        return make_user(f"ivy-{registry_id}", "investigator", registry_id)

    return make


def plan_rows(body: dict) -> dict[str, dict]:
    return {plan["drug"]: plan for plan in body["current"]}


# (study, site, arm) → per drug: computed, rounded, per administration, daily, BSA.
ARM_PLANS = [
    (
        "NCT03304288",
        "PKUPH",
        "RTX_ATRA",
        {
            "rituximab": ("100.0000", "100.0000", "100.0000", None, None),
            # Mosteller: √(165 × 60 / 3600) = 1.658 m²; 20 mg/m² → 33.16 → 10 mg capsules: 30.
            "ATRA": ("33.1600", "30.0000", "30.0000", "30.0000", "1.658"),
        },
    ),
    (
        "NCT03304288",
        "PKUPH",
        "RTX",
        {"rituximab": ("100.0000", "100.0000", "100.0000", None, None)},
    ),
    (
        "NCT05471050",
        "PKUPH",
        "TAC_DAN",
        {
            # 0.03 mg/kg/day × 60 kg = 1.8 → 0.5 mg steps: 2.0 mg/day = 1 mg bid.
            "tacrolimus": ("1.8000", "2.0000", "1.0000", "2.0000", None),
            "danazol": ("200.0000", "200.0000", "200.0000", "400.0000", None),
        },
    ),
    (
        "NCT05471050",
        "PKUPH",
        "DAN",
        {"danazol": ("200.0000", "200.0000", "200.0000", "400.0000", None)},
    ),
    ("NCT03918265", "PUMCH", "TAC", {"tacrolimus": ("1.0000", "1.0000", "1.0000", "2.0000", None)}),
    (
        "NCT05694130",
        "PUMCH",
        "PRED_TAC",
        {
            "prednisolone": ("60.0000", "60.0000", "60.0000", "60.0000", None),
            "tacrolimus": ("1.0000", "1.0000", "1.0000", "2.0000", None),
        },
    ),
    (
        "NCT05694130",
        "PUMCH",
        "PRED",
        {"prednisolone": ("60.0000", "60.0000", "60.0000", "60.0000", None)},
    ),
]


@pytest.mark.parametrize(("registry_id", "site", "arm", "expected"), ARM_PLANS)
def test_plan_follows_the_protocol_of_every_arm(
    make_patient, place_on_arm, client_for, investigator, registry_id, site, arm, expected
):
    study = Study.objects.get(registry_id=registry_id)
    patient = place_on_arm(make_patient(study, site, **screening_diagnosis(study)), arm, day1=DAY1)

    response = client_for(investigator(registry_id)).post(
        f"/api/patients/{patient.pk}/dosing/plan/"
    )

    assert response.status_code == 201, response.json()
    plans = plan_rows(response.json())
    got = {
        drug: (
            p["computed_mg"],
            p["rounded_mg"],
            p["per_administration_mg"],
            p["daily_mg"],
            p["bsa_m2"],
        )
        for drug, p in plans.items()
    }
    assert got == expected
    assert {p["plan_version"] for p in plans.values()} == {1}


def test_taper_is_stored_week_by_week_with_the_plan(
    make_patient, place_on_arm, client_for, investigator
):
    study = Study.objects.get(registry_id="NCT05694130")
    patient = place_on_arm(make_patient(study, "PUMCH"), "PRED", day1=DAY1)

    body = client_for(investigator("NCT05694130")).post(f"/api/patients/{patient.pk}/dosing/plan/")

    [plan] = body.json()["current"]
    weekly = [(week["week"], week["daily_mg"]) for week in plan["taper_weeks"]]
    doses = ["60.000"] * 4 + [
        "50.000",
        "40.000",
        "30.000",
        "25.000",
        "20.000",
        "15.000",
        "10.000",
        "7.500",
    ]
    assert weekly == list(enumerate(doses, start=1))
    assert "then to 7.5 mg/day over 8 weeks (protocol step table)" in plan["rule"]
    assert TaperWeek.objects.filter(plan_id=plan["id"]).count() == 12


@pytest.mark.parametrize(
    ("weight_kg", "weekly_daily_mg"),
    [
        # 1 mg/kg rounded to 2.5 mg, 4 weeks, then the ladder fitted to 8 weeks down to 7.5 mg.
        ("45.0", ["45"] * 4 + ["40", "30", "25", "20", "15", "10", "10", "7.5"]),
        ("72.4", ["72.5"] * 4 + ["60", "40", "30", "25", "20", "15", "10", "7.5"]),
        ("100.0", ["100"] * 4 + ["80", "60", "40", "25", "20", "15", "10", "7.5"]),
    ],
)
def test_taper_starts_from_the_weight_based_dose(
    make_patient, place_on_arm, client_for, investigator, weight_kg, weekly_daily_mg
):
    study = Study.objects.get(registry_id="NCT05694130")
    patient = place_on_arm(
        make_patient(study, "PUMCH", weight_kg=D(weight_kg)), "PRED_TAC", day1=DAY1
    )

    body = client_for(investigator("NCT05694130")).post(f"/api/patients/{patient.pk}/dosing/plan/")

    weeks = plan_rows(body.json())["prednisolone"]["taper_weeks"]
    assert [D(week["daily_mg"]) for week in weeks] == [D(mg) for mg in weekly_daily_mg]


def test_planning_again_with_unchanged_inputs_adds_nothing(
    make_patient, place_on_arm, client_for, investigator
):
    study = Study.objects.get(registry_id="NCT05471050")
    patient = place_on_arm(make_patient(study, "PKUPH"), "TAC_DAN", day1=DAY1)
    client = client_for(investigator("NCT05471050"))
    client.post(f"/api/patients/{patient.pk}/dosing/plan/")

    again = client.post(f"/api/patients/{patient.pk}/dosing/plan/")

    assert again.status_code == 200
    assert again.json()["created"] == []
    assert sorted(p["drug"] for p in again.json()["current"]) == ["danazol", "tacrolimus"]
    assert DosePlan.objects.filter(patient=patient).count() == 2


def test_a_bid_dose_is_rounded_per_administration_to_what_capsules_make(
    make_patient, place_on_arm, client_for, investigator
):
    """50 kg × 0.03 mg/kg/day = 1.5 mg/day is 0.75 mg bid: 0.5 and 1 mg capsules cannot make
    0.75 mg, so each administration is rounded (half up, 0.5 mg steps) to 1.0 mg: 2.0 mg/day."""
    study = Study.objects.get(registry_id="NCT05471050")
    patient = place_on_arm(make_patient(study, "PKUPH", weight_kg=D("50.0")), "TAC_DAN", day1=DAY1)
    response = client_for(investigator("NCT05471050")).post(
        f"/api/patients/{patient.pk}/dosing/plan/"
    )
    assert response.status_code == 201, response.json()
    tacrolimus = plan_rows(response.json())["tacrolimus"]
    assert (
        tacrolimus["computed_mg"],
        tacrolimus["per_administration_mg"],
        tacrolimus["rounded_mg"],
        tacrolimus["daily_mg"],
    ) == ("1.5000", "1.0000", "2.0000", "2.0000")
    assert tacrolimus["rule"] == (
        "0.03 mg/kg × 50.0 kg = 1.5 mg/day; ÷ 2 administrations = 0.75 mg each; rounded half up "
        "to the nearest 0.5 mg (at least one step) = 1.0 mg per administration; × 2 = 2.0 mg/day; "
        "per day: 1 mg bid = 2.0 mg/day"
    )


def test_a_weight_change_adds_a_plan_version_and_keeps_the_old_one(
    make_patient, place_on_arm, client_for, investigator
):
    study = Study.objects.get(registry_id="NCT05471050")
    patient = place_on_arm(make_patient(study, "PKUPH"), "TAC_DAN", day1=DAY1)
    client = client_for(investigator("NCT05471050"))
    client.post(f"/api/patients/{patient.pk}/dosing/plan/")
    patient.refresh_from_db()
    corrected = client.patch(
        f"/api/patients/{patient.pk}/",
        {
            "weight_kg": "85.0",
            "reason": "Weighed on a calibrated scale",
            "version": patient.version,
        },
        format="json",
    )
    assert corrected.status_code == 200, corrected.json()

    replanned = client.post(f"/api/patients/{patient.pk}/dosing/plan/")

    assert replanned.status_code == 201
    [new] = replanned.json()["created"]
    # 0.03 × 85 = 2.55 mg/day, 1.275 mg bid → 1.5 mg per administration (0.5 mg steps): 3.0
    # mg/day (2.5 mg/day would be 1.25 mg bid, which capsules cannot make); danazol (fixed) is
    # not re-planned.
    assert (new["drug"], new["plan_version"], new["computed_mg"], new["rounded_mg"]) == (
        "tacrolimus",
        2,
        "2.5500",
        "3.0000",
    )
    assert new["reason"] == "Re-planned: weight_kg 60.0 → 85.0 kg; dose 2.0000 → 3.0 mg"
    versions = DosePlan.objects.filter(patient=patient, drug="tacrolimus").order_by("plan_version")
    assert [(p.plan_version, p.weight_kg, p.rounded_mg) for p in versions] == [
        (1, D("60.0"), D("2.0000")),
        (2, D("85.0"), D("3.0000")),
    ]
    overview = client.get(f"/api/patients/{patient.pk}/dosing/").json()
    assert [(p["drug"], p["plan_version"]) for p in overview["plans"]] == [
        ("danazol", 1),
        ("tacrolimus", 1),
        ("tacrolimus", 2),
    ]
    assert {d["drug"]: d["plan_version"] for d in overview["drugs"]} == {
        "danazol": 1,
        "tacrolimus": 2,
    }


def test_baseline_weight_is_the_weight_recorded_by_day_1(
    make_patient, place_on_arm, client_for, investigator
):
    study = Study.objects.get(registry_id="NCT05471050")
    today = timezone.localdate()
    patient = place_on_arm(make_patient(study, "PKUPH"), "TAC_DAN", day1=today)
    client = client_for(investigator("NCT05471050"))

    body = client.post(f"/api/patients/{patient.pk}/dosing/plan/").json()

    tacrolimus = plan_rows(body)["tacrolimus"]
    assert tacrolimus["weight_kg"] == "60.0"
    assert tacrolimus["weight_source"] == f"baseline weight: patient record as of day 1 ({today})"


def test_latest_weight_basis_uses_the_latest_vital_signs(
    make_patient, place_on_arm, client_for, investigator
):
    study = Study.objects.get(registry_id="NCT05471050")
    patient = place_on_arm(make_patient(study, "PKUPH"), "TAC_DAN", day1=DAY1)
    regimen = study.current_protocol().regimens.get(code="TAC_DAN_tacrolimus")
    regimen.weight_basis = "latest"
    save_audited(regimen, actor=None, reason="Test: weight basis 'latest'")
    client = client_for(investigator("NCT05471050"))
    measured = client.post(
        "/api/vital-signs/",
        {"patient": patient.pk, "measured_on": str(DAY1), "weight_kg": "70.0"},
        format="json",
    )
    assert measured.status_code == 201, measured.json()

    tacrolimus = plan_rows(client.post(f"/api/patients/{patient.pk}/dosing/plan/").json())[
        "tacrolimus"
    ]

    assert (tacrolimus["weight_kg"], tacrolimus["computed_mg"], tacrolimus["rounded_mg"]) == (
        "70.0",
        "2.1000",
        "2.0000",
    )
    assert tacrolimus["weight_source"] == f"latest weight: vital signs of {DAY1}"


def test_dubois_bsa_when_the_protocol_says_so(make_patient, place_on_arm, client_for, investigator):
    study = Study.objects.get(registry_id="NCT03304288")
    regimen = study.current_protocol().regimens.get(code="RTX_ATRA_atra")
    regimen.bsa_formula = "dubois"
    save_audited(regimen, actor=None, reason="Test: DuBois")
    patient = place_on_arm(
        make_patient(study, "PKUPH", height_cm=D("170.0"), weight_kg=D("65.0")),
        "RTX_ATRA",
        day1=DAY1,
    )

    body = client_for(investigator("NCT03304288")).post(f"/api/patients/{patient.pk}/dosing/plan/")

    atra = plan_rows(body.json())["ATRA"]
    # DuBois 170 cm / 65 kg = 1.754 m² (Mosteller would give 1.752); 20 × 1.754 = 35.08 → 40.
    assert (atra["bsa_formula"], atra["bsa_m2"], atra["computed_mg"], atra["rounded_mg"]) == (
        "dubois",
        "1.754",
        "35.0800",
        "40.0000",
    )


def test_planning_an_unrandomized_patient_is_refused(make_patient, client_for, investigator):
    study = Study.objects.get(registry_id="NCT05471050")
    patient = make_patient(study, "PKUPH")

    response = client_for(investigator("NCT05471050")).post(
        f"/api/patients/{patient.pk}/dosing/plan/"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "patient"
    assert not DosePlan.objects.exists()


def test_planning_needs_the_right_to_enter_data(make_patient, place_on_arm, make_user, client_for):
    study = Study.objects.get(registry_id="NCT05471050")
    patient = place_on_arm(make_patient(study, "PKUPH"), "TAC_DAN", day1=DAY1)
    monitor = make_user("mona", "monitor", "NCT05471050")

    response = client_for(monitor).post(f"/api/patients/{patient.pk}/dosing/plan/")

    assert response.status_code == 403
    assert not DosePlan.objects.exists()
    assert client_for(monitor).get(f"/api/patients/{patient.pk}/dosing/").status_code == 200


def test_dosing_of_a_patient_outside_the_users_sites_does_not_exist(
    make_patient, place_on_arm, make_user, client_for
):
    study = Study.objects.get(registry_id="NCT03304288")
    foreign = place_on_arm(make_patient(study, "NAVY"), "RTX", day1=DAY1)
    client = client_for(make_user("cora", "coordinator", "NCT03304288", ["PKUPH"]))

    assert client.get(f"/api/patients/{foreign.pk}/dosing/").status_code == 404
    assert client.post(f"/api/patients/{foreign.pk}/dosing/plan/").status_code == 404
    assert not DosePlan.objects.exists()
