"""The study report, built through the API from data entered through the API.

The NCT05471050 data set reproduces the ASH 2023 results abstract: 43 vs 47 patients, 23 vs 14
meeting the amended primary endpoint (PLT > 50 ×10⁹/L at 6 months without additional ITP
therapy), peak platelet count medians 90 vs 70, no grade 3–4 adverse events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.models import Patient

pytestmark = pytest.mark.django_db

INVESTIGATOR_ANSWERS = {
    "primary_itp": True,
    "steroid_resistant_or_relapsed": True,
    "stable_maintenance": True,
    "secondary_itp": False,
    "heart_failure_arrhythmia": False,
    "pregnant_or_nursing": False,
    "malignancy": False,
    "prior_danazol": False,
    "unable_routine_tests": False,
}
FIRST_SCREENING = dt.date(2022, 3, 7)


@dataclass(frozen=True)
class Course:
    """One patient's planned data: counts at day 28, 180 and 189, optional rescue therapy."""

    arm: str
    day28: int
    day180: int
    rescue: bool = False
    ae_grade: int | None = None


def abstract_courses() -> list[Course]:
    """43 tacrolimus + danazol patients, 47 danazol patients, as in the results abstract.

    Peak counts are chosen so that the medians are 90 and 70; responders (PLT > 50 at 6 months,
    no rescue) are 23 and 14. Three danazol patients reach 80 at 6 months only after rescue
    therapy: responders under the registry definition (version 1), not under the abstract's.
    """
    combination = (
        [Course("TAC_DAN", 40, 30)] * 10
        + [Course("TAC_DAN", 60, 55)] * 11
        + [Course("TAC_DAN", 90, 55)]
        + [Course("TAC_DAN", 120, 55, ae_grade=1)] * 11
        + [Course("TAC_DAN", 120, 30, ae_grade=2)] * 10
    )
    danazol = (
        [Course("DAN", 30, 20)] * 13
        + [Course("DAN", 50, 20)] * 10
        + [Course("DAN", 70, 30)]
        + [Course("DAN", 100, 55, ae_grade=1)] * 14
        + [Course("DAN", 100, 80, rescue=True)] * 3
        + [Course("DAN", 100, 30)] * 6
    )
    assert (len(combination), len(danazol)) == (43, 47)
    return combination + danazol


def at(day: dt.date, hour: int = 8) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


class TrialBuilder:
    """Enters a trial's data the way a data manager back-enters historical data: via the API."""

    def __init__(self, client, study, tmp_path, statistician):
        self.client = client
        self.study = study
        self.site = study.sites.get(code="PKUPH")
        self.tmp_path = tmp_path
        self.statistician = statistician
        self.patients: list[tuple[int, str, dt.date, Course]] = []

    def import_list(self, courses: list[Course]) -> None:
        path = self.tmp_path / "allocation.csv"
        lines = ["number,stratum,arm"] + [
            f"{1001 + i},PKUPH,{course.arm}" for i, course in enumerate(courses)
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        call_command(
            "import_randomization_list",
            self.study.registry_id,
            str(path),
            "--user",
            self.statistician.username,
            stdout=StringIO(),
        )

    def post(self, url: str, body: dict, expected: int = 201) -> dict:
        response = self.client.post(url, body, format="json")
        assert response.status_code == expected, (url, response.json())
        return response.json()

    def enter(self, courses: list[Course], *, with_list: bool = True) -> None:
        """Screens, consents, confirms, randomizes and follows `courses`, in this order.

        With `with_list` the allocation list is imported first, its arms in the courses' order
        (so that patient i gets course i's arm); otherwise the list must already hold them.
        """
        if with_list:
            self.import_list(courses)
        screened = []
        offset = len(self.patients)
        for i, course in enumerate(courses, start=offset):
            screened_on = FIRST_SCREENING + dt.timedelta(days=i)
            created = self.post(
                "/api/patients/",
                {
                    "study": self.study.pk,
                    "site": self.site.pk,
                    "sex": "F" if i % 2 else "M",
                    "birth_date": "1975-06-01",
                    "height_cm": "165.0",
                    "weight_kg": "60.0",
                    "screened_on": screened_on.isoformat(),
                },
            )
            screened.append((created["id"], created["subject_id"], screened_on, course))
        self.bulk_labs(
            row
            for _, subject, screened_on, _ in screened
            for row in self.screening_labs(subject, screened_on)
        )
        for patient_id, subject, screened_on, course in screened:
            day1 = screened_on + dt.timedelta(days=3)
            self.post(
                f"/api/patients/{patient_id}/consent/",
                {"consented_at": screened_on.isoformat(), "consent_version": "1.0"},
            )
            outcome = self.post(
                f"/api/patients/{patient_id}/eligibility/",
                {"evaluated_on": screened_on.isoformat(), "answers": INVESTIGATOR_ANSWERS},
            )
            assert outcome["eligible"] is True, outcome
            allocation = self.post(
                f"/api/patients/{patient_id}/randomize/", {"randomized_at": day1.isoformat()}
            )
            assert allocation["arm"] == course.arm
            self.patients.append((patient_id, subject, day1, course))
        self.bulk_labs(
            row
            for _, subject, day1, course in self.patients
            for row in self.follow_up_counts(subject, day1, course)
        )
        for patient_id, _, day1, course in self.patients:
            if course.rescue:
                self.post(
                    "/api/rescue-therapies/",
                    {
                        "patient": patient_id,
                        "started_at": (day1 + dt.timedelta(days=60)).isoformat(),
                        "stopped_at": (day1 + dt.timedelta(days=64)).isoformat(),
                        "therapy": "IVIG 1 g/kg",
                        "itp_directed": True,
                    },
                )
            if course.ae_grade:
                self.post("/api/adverse-events/", self.adverse_event(patient_id, day1, course))

    @staticmethod
    def screening_labs(subject: str, day: dt.date) -> list[dict]:
        def lab(code, value, unit, uln):
            return {
                "patient": subject,
                "test_code": code,
                "value": value,
                "unit": unit,
                "lln": "0",
                "uln": uln,
                "collected_at": at(day),
                "accession": f"S-{subject}-{code}",
            }

        return [
            {**lab("PLAT", "20", "10^9/L", "350"), "lln": "125"},
            lab("ALT", "30", "U/L", "40"),
            lab("AST", "28", "U/L", "40"),
            lab("CREAT", "70", "umol/L", "100"),
            lab("BILI", "10", "umol/L", "20"),
        ]

    @staticmethod
    def follow_up_counts(subject: str, day1: dt.date, course: Course) -> list[dict]:
        return [
            {
                "patient": subject,
                "test_code": "PLAT",
                "value": str(value),
                "unit": "10^9/L",
                "lln": "125",
                "uln": "350",
                "collected_at": at(day1 + dt.timedelta(days=day)),
                "accession": f"F-{subject}-D{day}",
            }
            for day, value in ((28, course.day28), (180, course.day180), (189, course.day180))
        ]

    def bulk_labs(self, rows) -> None:
        body = {"source": "historical-data.csv", "rows": list(rows)}
        result = self.post("/api/lab-results/bulk/", body)
        assert result["failed"] == 0

    @staticmethod
    def adverse_event(patient_id: int, day1: dt.date, course: Course) -> dict:
        drugs = ["tacrolimus", "danazol"] if course.arm == "TAC_DAN" else ["danazol"]
        return {
            "patient": patient_id,
            "term": "Headache" if course.ae_grade == 1 else "Rash acneiform",
            "verbatim": "headache" if course.ae_grade == 1 else "acne on the face",
            "onset_date": (day1 + dt.timedelta(days=20)).isoformat(),
            "grade": course.ae_grade,
            "outcome": "recovered",
            "resolution_date": (day1 + dt.timedelta(days=30)).isoformat(),
            "drug_assessments": [
                {"drug": drug, "causality": "possible", "action_taken": "dose_not_changed"}
                for drug in drugs
            ],
        }


@pytest.fixture
def data_manager(make_user):
    return make_user("dana", "data_manager", "NCT05471050")


@pytest.fixture
def statistician(make_user):
    return make_user("stan", "statistician", "NCT05471050")


@pytest.fixture
def builder(client_for, data_manager, statistician, study, tmp_path):
    return TrialBuilder(client_for(data_manager), study, tmp_path, statistician)


def report(client, study, **params) -> dict:
    response = client.get(f"/api/studies/{study.pk}/report/", params)
    assert response.status_code == 200, response.json()
    return response.json()


def arm(body: dict, code: str) -> dict:
    return next(a for a in body["arms"] if a["code"] == code)


def test_the_results_abstract_is_reproduced_from_the_data(builder, client_for, statistician, study):
    builder.enter(abstract_courses())
    body = report(client_for(statistician), study)

    assert body["protocol_version"] == 2
    assert [(a["code"], a["n"]) for a in body["arms"]] == [("TAC_DAN", 43), ("DAN", 47)]
    primary = {a["code"]: a["endpoints"]["sustained_response_6m"] for a in body["arms"]}
    assert primary["TAC_DAN"] == {
        "type": "binary",
        "responders": 23,
        "n": 43,
        "not_evaluable": 0,
        "rate": 0.5349,
        "ci_95": [0.3892, 0.6749],  # Wilson score, checked by hand
        "ci_method": "Wilson score",
    }
    assert (primary["DAN"]["responders"], primary["DAN"]["n"], primary["DAN"]["rate"]) == (
        14,
        47,
        0.2979,
    )
    [comparison] = [c for c in body["comparisons"] if c["endpoint"] == "sustained_response_6m"]
    assert comparison["arms"] == ["TAC_DAN", "DAN"]
    assert comparison["test"] == "Fisher's exact test, two-sided"
    assert comparison["p_value"] == 0.0319  # the abstract: p = 0.032
    # Computed, not copied: 23/43 vs 14/47 gives 2.71 (the abstract misprints 2.17).
    assert comparison["odds_ratio"] == 2.7107
    assert comparison["odds_ratio_ci_95"] == [1.1403, 6.4442]
    assert comparison["risk_difference"] == 0.237

    peaks = {a["code"]: a["endpoints"]["peak_platelet_count"] for a in body["arms"]}
    assert (peaks["TAC_DAN"]["median"], peaks["DAN"]["median"]) == (90, 70)
    assert (peaks["TAC_DAN"]["n"], peaks["DAN"]["n"]) == (43, 47)

    events = body["adverse_events"]
    assert events["TAC_DAN"]["patients_with_any_ae"] == 21
    assert events["TAC_DAN"]["by_worst_grade"] == {"1": 11, "2": 10, "3": 0, "4": 0, "5": 0}
    assert events["DAN"]["by_worst_grade"] == {"1": 14, "2": 0, "3": 0, "4": 0, "5": 0}
    assert events["TAC_DAN"]["by_term"] == {"Headache": 11, "Rash acneiform": 10}
    assert (body["consort"]["screened"], body["consort"]["allocated"]) == (90, 90)
    assert [(a["arm"], a["allocated"]) for a in body["consort"]["arms"]] == [
        ("DAN", 47),
        ("TAC_DAN", 43),
    ]

    # The registry's definition (version 1: >= 30 and 2x baseline, confirmed, no rescue in the
    # prior 28 days) counts the three danazol patients rescued at day 60-64 as responders.
    registry = report(client_for(statistician), study, protocol_version=1)
    assert registry["protocol_version"] == 1
    assert [
        (a["code"], a["endpoints"]["sustained_response_6m"]["responders"]) for a in registry["arms"]
    ] == [("TAC_DAN", 23), ("DAN", 17)]


def test_the_report_downloads_as_csv(builder, client_for, statistician, study):
    builder.enter(abstract_courses()[:2] + abstract_courses()[-2:])
    response = client_for(statistician).get(f"/api/studies/{study.pk}/report/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "NCT05471050-report-v2.csv" in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[0] == "section,arm,endpoint,statistic,value"
    assert "endpoint,TAC_DAN,sustained_response_6m,responders,0" in lines
    assert (
        'comparison,TAC_DAN vs DAN,sustained_response_6m,test,"Fisher\'s exact test, two-sided"'
        in lines
    )
    assert "arm,DAN,,n,2" in lines


def test_an_earlier_cut_is_unchanged_by_a_later_correction(
    builder, client_for, statistician, study
):
    courses = [Course("TAC_DAN", 90, 60), Course("DAN", 70, 60), Course("TAC_DAN", 40, 30)]
    builder.enter(courses)
    client = client_for(statistician)
    cut = timezone.now()
    before = report(client, study)
    assert arm(before, "TAC_DAN")["endpoints"]["sustained_response_6m"]["responders"] == 1

    # The 6-month count of the first patient was another patient's sample: corrected to 45.
    patient_id, _, day1, _ = builder.patients[0]
    labs = builder.client.get(f"/api/lab-results/?patient={patient_id}&test_code=PLAT").json()
    six_months = next(
        r
        for r in labs["results"]
        if r["collected_at"].startswith((day1 + dt.timedelta(days=180)).isoformat())
    )
    corrected = builder.client.patch(
        f"/api/lab-results/{six_months['id']}/",
        {
            "value": "45",
            "reason": "Sample mix-up, re-entered from source",
            "version": six_months["version"],
        },
        format="json",
    )
    assert corrected.status_code == 200, corrected.json()

    after = report(client, study)
    assert arm(after, "TAC_DAN")["endpoints"]["sustained_response_6m"]["responders"] == 0
    as_cut = report(client, study, as_of=cut.isoformat().replace("+00:00", "Z"))
    assert as_cut["arms"] == before["arms"]
    assert as_cut["comparisons"] == before["comparisons"]
    assert as_cut["as_of"] == cut.isoformat()

    # The patient's own assessment is reproducible the same way.
    own = client.get(
        f"/api/patients/{patient_id}/assessments/",
        {"as_of": cut.isoformat().replace("+00:00", "Z")},
    )
    assert own.json()["endpoints"]["sustained_response_6m"]["met"] is True
    now = client.get(f"/api/patients/{patient_id}/assessments/").json()
    assert now["endpoints"]["sustained_response_6m"]["met"] is False
    assert "45" in now["endpoints"]["sustained_response_6m"]["detail"]


def test_a_cut_before_any_data_has_no_patients(builder, client_for, statistician, study):
    builder.enter([Course("TAC_DAN", 90, 60), Course("DAN", 70, 60)])
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    body = report(client_for(statistician), study, as_of=yesterday.isoformat())
    assert [(a["code"], a["n"]) for a in body["arms"]] == [("TAC_DAN", 0), ("DAN", 0)]
    assert body["as_of"] == f"{yesterday.isoformat()}T23:59:59.999999+00:00"


@pytest.mark.parametrize("as_of", ["2025-02-30", "2025-03-04T25:00:00Z", "yesterday"])
def test_an_impossible_cut_is_a_400_naming_as_of(client_for, statistician, study, as_of):
    response = client_for(statistician).get(f"/api/studies/{study.pk}/report/", {"as_of": as_of})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["as_of"]


@pytest.mark.parametrize("cut", [False, True], ids=["stored assessments", "as_of"])
def test_report_queries_do_not_grow_with_the_number_of_patients(
    builder, client_for, statistician, study, cut
):
    client = client_for(statistician)
    courses = abstract_courses()
    first, later = [courses[0], courses[-1]], [courses[1], courses[2], courses[-2], courses[-3]]
    builder.import_list(first + later)

    def count_queries() -> int:
        params = {"as_of": timezone.now().isoformat().replace("+00:00", "Z")} if cut else {}
        report(client, study, **params)  # warm per-process caches (content types, sessions)
        with CaptureQueriesContext(connection) as captured:
            body = report(client, study, **params)
        assert sum(a["n"] for a in body["arms"]) == len(builder.patients)
        return len(captured.captured_queries)

    builder.enter(first, with_list=False)
    with_two = count_queries()
    builder.enter(later, with_list=False)
    with_six = count_queries()
    assert Patient.objects.filter(study=study, arm__isnull=False).count() == 6
    assert with_six == with_two
