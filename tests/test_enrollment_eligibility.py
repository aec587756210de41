"""Eligibility evaluation through the API: automatic criteria from recorded data, investigator
answers, missing data, re-evaluation after a correction, permissions and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ecrf.audit import void_audited
from patients.models import EligibilityAssessment
from tests.diagnosis_support import screening_diagnosis
from trials.models import Study

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def investigator(make_user):
    return make_user("ivy", "investigator", "NCT05471050")


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT05471050")


@pytest.fixture
def patient(study, make_patient):
    return make_patient(study, "PKUPH")


def investigator_answers(study, **overrides):
    """Every investigator-confirmed criterion answered favourably (inclusion met, exclusion not)."""
    criteria = study.current_protocol().eligibility_criteria.filter(rule__isnull=True)
    answers = {c.code: c.kind == "inclusion" for c in criteria}
    answers.update(overrides)
    return answers


def normal_labs(record_lab, patient, **replace):
    panel = {
        "PLAT": ("20", "10^9/L", None, None),
        "ALT": ("30", "U/L", "7", "40"),
        "AST": ("25", "U/L", "13", "35"),
        "CREAT": ("70", "umol/L", "45", "84"),
        "BILI": ("10", "umol/L", "0", "21"),
    }
    panel.update(replace)
    for code, (value, unit, lln, uln) in panel.items():
        if value is not None:
            record_lab(patient, code, value, unit, lln=lln, uln=uln)


def evaluate(client, patient, **body):
    return client.post(f"/api/patients/{patient.pk}/eligibility/", body, format="json")


def by_code(response):
    return {c["code"]: c for c in response.json()["criteria"]}


def test_all_criteria_met_makes_the_patient_eligible(
    client_for, investigator, study, patient, record_lab
):
    normal_labs(record_lab, patient)
    response = evaluate(
        client_for(investigator),
        patient,
        answers=investigator_answers(study),
        evaluated_on="2025-01-06",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["eligible"], body["status"], body["patient_status"]) == (
        True,
        "eligible",
        "eligible",
    )
    criteria = by_code(response)
    assert len(criteria) == study.current_protocol().eligibility_criteria.count()
    assert criteria["age_18_70"] == {
        "code": "age_18_70",
        "kind": "inclusion",
        "text": "Age 18 to 70 years.",
        "met": True,
        "source": "automatic",
        "detail": "age 44 years: between 18 and 70",
        "answered_by": None,
    }
    assert criteria["primary_itp"]["source"] == "investigator"
    assert criteria["primary_itp"]["answered_by"] == "ivy"


def test_alt_above_three_times_uln_is_a_screen_failure_saying_which_value_decided(
    client_for, investigator, study, patient, record_lab
):
    normal_labs(record_lab, patient, ALT=("130", "U/L", "7", "40"))
    response = evaluate(client_for(investigator), patient, answers=investigator_answers(study))
    assert response.status_code == 201
    alt = by_code(response)["alt_ast_3uln"]
    assert (alt["kind"], alt["met"], alt["source"]) == ("exclusion", True, "automatic")
    assert "ALT 130 U/L = 3.25×ULN (ULN 40 U/L)" in alt["detail"]
    assert (response.json()["eligible"], response.json()["patient_status"]) == (
        False,
        "screen_failed",
    )
    patient.refresh_from_db()
    assert patient.status_reason_codes == ["alt_ast_3uln"]
    assert patient.status_reason == "Eligibility evaluation: criteria failed: alt_ast_3uln"


def test_units_are_converted_before_comparing(client_for, make_user, make_patient, record_lab):
    sjogren = Study.objects.get(registry_id="NCT05694130")
    patient = make_patient(sjogren, "PUMCH")
    record_lab(patient, "PLAT", "25000", "/uL")  # = 25 10^9/L
    record_lab(patient, "CREAT", "1.8", "mg/dL", lln="0.5", uln="1.1")  # > 1.5 mg/dL: excluded
    client = client_for(make_user("ivy", "investigator", "NCT05694130"))
    criteria = by_code(evaluate(client, patient))
    assert criteria["plt_below_30"]["met"] is True
    assert criteria["plt_below_30"]["detail"].startswith("PLAT 25000 /uL = 25 10^9/L")
    assert criteria["creat_above_1_5_mg_dl"]["met"] is True
    assert criteria["creat_above_1_5_mg_dl"]["detail"].startswith(
        "CREAT 1.8 mg/dL = 159.156 umol/L"
    )


def test_missing_data_is_met_null_and_not_yet_eligible(
    client_for, investigator, study, patient, record_lab
):
    normal_labs(record_lab, patient, PLAT=(None, None, None, None))
    response = evaluate(client_for(investigator), patient, answers=investigator_answers(study))
    plat = by_code(response)["plt_below_30"]
    assert (plat["met"], plat["detail"]) == (None, "no PLAT result recorded")
    body = response.json()
    assert (body["eligible"], body["status"], body["patient_status"]) == (
        False,
        "incomplete",
        "screening",
    )


def test_missing_uln_leaves_a_uln_criterion_open(
    client_for, investigator, study, patient, record_lab
):
    normal_labs(record_lab, patient, BILI=("10", "umol/L", None, None))
    response = evaluate(client_for(investigator), patient, answers=investigator_answers(study))
    assert by_code(response)["creat_bili_1_5uln"]["met"] is None
    assert response.json()["status"] == "incomplete"


def test_only_the_latest_valid_result_on_or_before_the_evaluation_date_counts(
    client_for, investigator, study, patient, record_lab
):
    normal_labs(record_lab, patient)
    record_lab(patient, "PLAT", "45", "10^9/L", on=dt.date(2025, 1, 2))  # older: ignored
    voided = record_lab(patient, "PLAT", "60", "10^9/L", on=dt.date(2025, 1, 6))
    void_audited(voided, actor=investigator, reason="wrong patient", expected_version=1)
    record_lab(patient, "PLAT", "80", "10^9/L", on=dt.date(2025, 1, 9))  # after the evaluation
    response = evaluate(
        client_for(investigator),
        patient,
        answers=investigator_answers(study),
        evaluated_on="2025-01-06",
    )
    assert by_code(response)["plt_below_30"]["detail"] == "PLAT 20 10^9/L: < 30 10^9/L"
    assert response.json()["eligible"] is True


@pytest.mark.parametrize(
    ("birth_date", "met"),
    [
        ("1953-12-01", False),  # 71
        ("1954-01-07", True),  # 70, 71 tomorrow
        ("2007-01-06", True),  # 18 today
        ("2007-01-07", False),  # 17, 18 tomorrow
    ],
)
def test_age_is_counted_in_full_years_at_the_evaluation_date(
    client_for, investigator, study, make_patient, record_lab, birth_date, met
):
    patient = make_patient(study, "PKUPH", birth_date=dt.date.fromisoformat(birth_date))
    normal_labs(record_lab, patient)
    response = evaluate(client_for(investigator), patient, evaluated_on="2025-01-06")
    assert by_code(response)["age_18_70"]["met"] is met


def test_ecog_comes_from_the_latest_assessment(client_for, make_user, make_patient, record_ecog):
    single_arm = Study.objects.get(registry_id="NCT03918265")
    patient = make_patient(single_arm, "PUMCH", diagnosis="AIHA")
    record_ecog(patient, 1, on=dt.date(2024, 12, 1))
    record_ecog(patient, 3, on=dt.date(2025, 1, 5))
    client = client_for(make_user("ivy", "investigator", "NCT03918265"))
    ecog = by_code(evaluate(client, patient))["ecog_0_2"]
    assert (ecog["met"], ecog["detail"]) == (False, "ECOG 3: not between 0 and 2")


def test_coordinator_evaluates_but_may_not_answer_investigator_items(
    client_for, coordinator, study, patient, record_lab
):
    normal_labs(record_lab, patient)
    client = client_for(coordinator)
    refused = evaluate(client, patient, answers={"primary_itp": True})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "answers"
    assert not EligibilityAssessment.objects.exists()

    response = evaluate(client, patient)
    assert response.status_code == 201
    criteria = by_code(response)
    assert (criteria["primary_itp"]["met"], criteria["primary_itp"]["detail"]) == (
        None,
        "awaiting investigator confirmation",
    )
    assert criteria["plt_below_30"]["met"] is True
    assert response.json()["status"] == "incomplete"


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"no_such_criterion": True}, "answers.no_such_criterion"),
        ({"plt_below_30": True}, "answers.plt_below_30"),  # automatic: not answerable
        ({"primary_itp": "perhaps"}, "answers.primary_itp"),
        ({"no_such_criterion": None}, "answers.no_such_criterion"),
        ("yes", "answers"),
    ],
)
def test_bad_answers_are_a_400_naming_the_answer_and_store_nothing(
    client_for, investigator, patient, answers, field
):
    response = evaluate(client_for(investigator), patient, answers=answers)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not EligibilityAssessment.objects.exists()
    patient.refresh_from_db()
    assert (patient.status, patient.version) == ("screening", 1)


@pytest.mark.parametrize(
    ("evaluated_on", "field"),
    [((TODAY + dt.timedelta(days=1)).isoformat(), "evaluated_on"), ("2025-01-01", "evaluated_on")],
)
def test_evaluation_date_must_be_between_screening_and_today(
    client_for, investigator, patient, evaluated_on, field
):
    response = evaluate(client_for(investigator), patient, evaluated_on=evaluated_on)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, field)
    assert not EligibilityAssessment.objects.exists()


def test_reevaluation_after_a_correction_is_a_new_audited_result(
    client_for, investigator, coordinator, study, patient, record_lab
):
    normal_labs(record_lab, patient, ALT=("130", "U/L", "7", "40"))
    first = evaluate(client_for(investigator), patient, answers=investigator_answers(study))
    assert first.json()["patient_status"] == "screen_failed"

    # The ALT was the wrong patient's: voided, and the right value recorded.
    wrong = patient.lab_results.get(test_code="ALT")
    void_audited(wrong, actor=investigator, reason="other patient's sample", expected_version=1)
    record_lab(patient, "ALT", "32", "U/L", lln="7", uln="40")
    # A coordinator re-evaluates; the investigator's answers carry over.
    second = evaluate(client_for(coordinator), patient)
    assert second.status_code == 201
    assert (second.json()["eligible"], second.json()["patient_status"]) == (True, "eligible")
    assert by_code(second)["primary_itp"]["answered_by"] == "ivy"

    assessments = EligibilityAssessment.objects.filter(patient=patient).order_by("id")
    assert [a.status for a in assessments] == ["ineligible", "eligible"]
    assert [a.history.get().history_user.username for a in assessments] == ["ivy", "cora"]
    moves = [
        (h.status, h.history_user.username)
        for h in patient.history.order_by("history_date", "history_id")
    ]
    assert moves == [("screening", "fixture-admin"), ("screen_failed", "ivy"), ("eligible", "cora")]
    listed = client_for(coordinator).get(f"/api/patients/{patient.pk}/eligibility/").json()
    assert [a["status"] for a in listed["results"]] == ["eligible", "ineligible"]


def test_an_answer_can_be_withdrawn(client_for, investigator, study, patient, record_lab):
    normal_labs(record_lab, patient)
    client = client_for(investigator)
    assert evaluate(client, patient, answers=investigator_answers(study)).json()["eligible"]
    response = evaluate(client, patient, answers={"primary_itp": None})
    assert by_code(response)["primary_itp"]["met"] is None
    assert response.json()["patient_status"] == "screening"


def test_eligibility_is_settled_once_randomized(
    client_for, investigator, study, patient, screen_eligible, allocation_list
):
    from patients.randomization import patient_randomize

    screen_eligible(patient)
    allocation_list(study)
    patient_randomize(actor=investigator, patient=patient)
    count = EligibilityAssessment.objects.count()
    response = evaluate(client_for(investigator), patient)
    assert response.status_code == 409
    assert EligibilityAssessment.objects.count() == count


def test_foreign_patient_is_a_404(client_for, make_user, multisite_study, make_patient):
    foreign = make_patient(multisite_study, "NAVY")
    client = client_for(make_user("ivy", "investigator", "NCT03304288", ["PKUPH"]))
    assert evaluate(client, foreign).status_code == 404
    assert not EligibilityAssessment.objects.exists()


@pytest.mark.parametrize(
    "registry_id", ["NCT05471050", "NCT03304288", "NCT03918265", "NCT05694130"]
)
def test_every_study_can_screen_a_patient_eligible(make_patient, screen_eligible, registry_id):
    study = Study.objects.get(registry_id=registry_id)
    patient = screen_eligible(
        make_patient(study, study.sites.first().code, **screening_diagnosis(study))
    )
    assert patient.status == "eligible"
