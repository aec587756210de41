"""Live endpoint assessments: recomputed in the write's transaction, for that patient only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.test_study_report import Course, TrialBuilder
from trials.models import Study
from visits.endpoints.models import PatientAssessment

pytestmark = pytest.mark.django_db


@pytest.fixture
def builder(client_for, make_user, study, tmp_path):
    data_manager = make_user("dana", "data_manager", "NCT05471050")
    statistician = make_user("stan", "statistician", "NCT05471050")
    return TrialBuilder(client_for(data_manager), study, tmp_path, statistician)


def test_assessment_lists_visits_and_endpoints_with_details(builder):
    builder.enter([Course("TAC_DAN", 90, 60)])
    patient_id, subject, day1, _ = builder.patients[0]
    body = builder.client.get(f"/api/patients/{patient_id}/assessments/").json()

    assert (body["subject_id"], body["protocol_version"], body["as_of"]) == (subject, 2, None)
    day28 = (day1 + dt.timedelta(days=28)).isoformat()
    assert body["visits"][0] == {
        "date": day28,
        "visit": "W4",
        "platelet_count": 90,
        "response": "R",
        "bleeding": False,
        "rescue": False,
        "detail": body["visits"][0]["detail"],
    }
    assert "PLT 90" in body["visits"][0]["detail"]
    assert [v["platelet_count"] for v in body["visits"]] == [90, 60, 60]
    primary = body["endpoints"]["sustained_response_6m"]
    assert (primary["kind"], primary["met"], primary["value"]) == (
        "response_at_time_point",
        True,
        None,
    )
    assert "PLT 60" in primary["detail"]
    assert body["endpoints"]["peak_platelet_count"]["value"] == 90
    assert sorted(body["endpoints"]) == [
        "complete_response",
        "duration_of_response",
        "peak_platelet_count",
        "response",
        "sustained_response_6m",
        "time_to_response",
    ]


def test_earlier_protocol_version_is_evaluated_on_request(builder):
    builder.enter([Course("TAC_DAN", 90, 45)])  # baseline 20: 45 >= 2x; not > 50
    patient_id = builder.patients[0][0]
    url = f"/api/patients/{patient_id}/assessments/"
    assert builder.client.get(url).json()["endpoints"]["sustained_response_6m"]["met"] is False
    v1 = builder.client.get(url, {"protocol_version": 1}).json()
    assert (v1["protocol_version"], v1["endpoints"]["sustained_response_6m"]["met"]) == (1, True)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"as_of": "yesterday"}, "as_of"), ({"protocol_version": "x"}, "protocol_version"),
     ({"protocol_version": "9"}, "protocol_version")],
)  # fmt: skip
def test_bad_cut_parameters_are_named(builder, params, field):
    builder.enter([Course("TAC_DAN", 90, 60)])
    response = builder.client.get(f"/api/patients/{builder.patients[0][0]}/assessments/", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_a_new_count_recomputes_only_that_patients_assessment(builder):
    builder.enter([Course("TAC_DAN", 90, 60), Course("DAN", 70, 60)])
    (first_id, _, day1, _), (second_id, *_) = builder.patients
    untouched = PatientAssessment.objects.get(patient_id=second_id).history.count()
    before = PatientAssessment.objects.get(patient_id=first_id).history.count()

    response = builder.client.post(
        "/api/lab-results/",
        {
            "patient": first_id,
            "collected_at": f"{(day1 + dt.timedelta(days=60)).isoformat()}T08:00:00Z",
            "test_code": "PLAT",
            "value": "150",
            "unit": "10^9/L",
            "lln": "125",
            "uln": "350",
        },
        format="json",
    )
    assert response.status_code == 201

    stored = PatientAssessment.objects.get(patient_id=first_id)
    assert stored.endpoints["peak_platelet_count"]["value"] == 150
    assert stored.history.count() == before + 1
    assert (
        stored.history.first().history_change_reason == "Endpoints recomputed: Lab result entered"
    )
    assert PatientAssessment.objects.get(patient_id=second_id).history.count() == untouched


def test_bleeding_and_rescue_change_the_stored_responses(builder):
    builder.enter([Course("TAC_DAN", 90, 60)])
    patient_id, _, day1, _ = builder.patients[0]
    six_months = (day1 + dt.timedelta(days=180)).isoformat()
    builder.post(
        "/api/bleeding-assessments/",
        {"patient": patient_id, "assessed_at": six_months, "who_grade": 2},
    )
    stored = PatientAssessment.objects.get(patient_id=patient_id)
    at_six_months = next(v for v in stored.visits if v["date"] == six_months)
    assert (at_six_months["bleeding"], at_six_months["response"]) == (True, "NR")
    # The amended primary endpoint has no bleeding condition; rescue therapy fails it.
    assert stored.endpoints["sustained_response_6m"]["met"] is True
    builder.post(
        "/api/rescue-therapies/",
        {
            "patient": patient_id,
            "started_at": (day1 + dt.timedelta(days=100)).isoformat(),
            "stopped_at": (day1 + dt.timedelta(days=103)).isoformat(),
            "therapy": "Eltrombopag",
            "itp_directed": True,
        },
    )
    stored.refresh_from_db()
    assert stored.endpoints["sustained_response_6m"]["met"] is False


def test_admin_report_and_patient_chart_render(builder, admin_client):
    builder.enter([Course("TAC_DAN", 90, 60), Course("DAN", 70, 30)])
    study = builder.study
    page = admin_client.get(f"/admin/endpoints/patientassessment/report/{study.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sustained response at 6 months" in html
    assert "Fisher&#x27;s exact test, two-sided" in html
    chart = admin_client.get(f"/admin/endpoints/patientassessment/chart/{builder.patients[0][0]}/")
    assert chart.status_code == 200
    svg = chart.content.decode()
    assert "<svg" in svg
    assert "sustained_response_6m: R &gt; 50" in svg  # the amended primary threshold is drawn
    assert "R &gt;= 30" in svg  # and the protocol's response levels
    assert "baseline 20" in svg


def test_report_needs_report_access(builder, client_for, make_user):
    builder.enter([Course("TAC_DAN", 90, 60)])
    coordinator = client_for(make_user("cora", "coordinator", "NCT05471050"))
    response = coordinator.get(f"/api/studies/{builder.study.pk}/report/")
    assert response.status_code == 403
    outsider = client_for(make_user("otto", "investigator", "NCT03304288"))
    assert outsider.get(f"/api/studies/{builder.study.pk}/report/").status_code == 404


def test_a_red_cell_transfusion_rules_out_a_haemoglobin_response(
    make_user, client_for, make_patient, place_on_arm
):
    """NCT03918265: Hb response needs no transfusion within 7 days of the 6-month value."""
    study = Study.objects.get(registry_id="NCT03918265")
    client = client_for(make_user("dana", "data_manager", "NCT03918265"))
    day1 = timezone.localdate() - dt.timedelta(days=200)
    patient = make_patient(
        study, "PUMCH", screened_on=day1 - dt.timedelta(days=5), diagnosis="AIHA"
    )
    place_on_arm(patient, "TAC", day1=day1, status="enrolled")

    def hb(day: int, value: str) -> None:
        collected = f"{(day1 + dt.timedelta(days=day)).isoformat()}T08:00:00Z"
        body = {"patient": patient.pk, "test_code": "HGB", "value": value, "unit": "g/L",
                "lln": "115", "uln": "150", "collected_at": collected}  # fmt: skip
        assert client.post("/api/lab-results/", body, format="json").status_code == 201

    hb(-2, "70")
    hb(180, "112")
    url = f"/api/patients/{patient.pk}/assessments/"
    result = client.get(url).json()["endpoints"]
    assert (result["hb_6m"]["value"], result["hb_response_6m"]["value"]) == (112, "PR")

    transfusion = {
        "patient": patient.pk,
        "started_at": (day1 + dt.timedelta(days=176)).isoformat(),
        "stopped_at": (day1 + dt.timedelta(days=176)).isoformat(),
        "therapy": "2 units packed red cells",
        "itp_directed": False,
        "kind": "transfusion",
    }
    assert client.post("/api/rescue-therapies/", transfusion, format="json").status_code == 201
    result = client.get(url).json()["endpoints"]
    assert result["hb_response_6m"]["value"] == "NR"
    assert "transfus" in result["hb_response_6m"]["detail"]
    assert result["hb_6m"]["value"] == 112  # the value itself is still reported


@pytest.mark.parametrize(
    ("started", "stopped", "itp_directed", "met"),
    [
        (30, None, True, False),  # new eltrombopag course on day 30: additional ITP therapy
        (-60, None, True, True),  # stable background therapy present at baseline
        (0, None, True, True),  # started on day 1 itself: baseline therapy
        (30, None, False, True),  # not ITP-directed (e.g. a proton-pump inhibitor)
    ],
)
def test_itp_directed_concomitant_therapy_after_day1_is_additional_itp_therapy(
    builder, started, stopped, itp_directed, met
):
    builder.enter([Course("TAC_DAN", 90, 60)])
    patient_id, _, day1, _ = builder.patients[0]
    builder.post(
        "/api/rescue-therapies/",
        {
            "patient": patient_id,
            "kind": "concomitant",
            "started_at": (day1 + dt.timedelta(days=started)).isoformat(),
            "stopped_at": None,
            "therapy": "Eltrombopag 50 mg daily",
            "itp_directed": itp_directed,
        },
    )
    stored = PatientAssessment.objects.get(patient_id=patient_id)
    # The amended primary endpoint: PLT > 50 at 6 months without additional ITP therapy.
    assert stored.endpoints["sustained_response_6m"]["met"] is met
