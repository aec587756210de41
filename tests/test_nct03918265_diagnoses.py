"""NCT03918265 enrols three diseases: each patient's diagnosis (AIHA, PRCA, Evans syndrome) is
recorded at screening and decides which response endpoints apply; the report breaks results down
by diagnosis. Everything goes through the API and the database (PostgreSQL in CI)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field

import pytest

from patients.models import Patient
from trials.models import Study
from visits.endpoints.models import PatientAssessment

pytestmark = pytest.mark.django_db

REGISTRY_ID = "NCT03918265"
DAY1 = dt.date(2023, 3, 1)  # day 730 (2025-02-28) is long past: every window has closed
SCREENED = DAY1 - dt.timedelta(days=9)
ALL_PATIENTS = ["hb_6m", "plt_6m", "hb_24m", "plt_24m"]  # the registry's outcomes, every patient


@pytest.fixture
def study() -> Study:
    return Study.objects.get(registry_id=REGISTRY_ID)


@pytest.fixture
def client(client_for, make_user):
    return client_for(make_user("dana", "data_manager", REGISTRY_ID))


@pytest.fixture
def statistician(client_for, make_user):
    return client_for(make_user("stan", "statistician", REGISTRY_ID))


def screening_body(study: Study, site_code: str = "PUMCH", **extra) -> dict:
    return {
        "study": study.pk,
        "site": study.sites.get(code=site_code).pk,
        "sex": "F",
        "birth_date": "1975-06-01",
        "height_cm": "162.0",
        "weight_kg": "58.0",
        "screened_on": SCREENED.isoformat(),
        **extra,
    }


@dataclass
class Course:
    """Day → value of Hb (g/L) and platelets (10^9/L); transfusion days."""

    diagnosis: str
    hb: dict[int, int]
    plt: dict[int, int]
    transfusions: list[int] = field(default_factory=list)


# One or two patients per diagnosis, each with a known answer (see the test's comments).
COURSES = {
    "A1": Course("AIHA", hb={-2: 80, 180: 125, 730: 105}, plt={-2: 200, 180: 210, 730: 220}),
    "A2": Course("AIHA", hb={-2: 75, 180: 85, 730: 90}, plt={-2: 180, 180: 190, 730: 150}),
    "P1": Course("PRCA", hb={-2: 60, 180: 85, 730: 128}, plt={-2: 250, 180: 240, 730: 230}),
    "P2": Course(
        "PRCA",
        hb={-2: 62, 180: 90, 730: 100},
        plt={-2: 260, 180: 250, 730: 245},
        transfusions=[160],  # 20 days before the 6-month value
    ),
    "E1": Course("EVANS", hb={-2: 85, 180: 118, 730: 122}, plt={-2: 20, 180: 70, 190: 72, 730: 25}),
    "E2": Course(
        "EVANS", hb={-2: 80, 180: 92, 730: 101}, plt={-2: 15, 180: 25, 730: 110, 740: 105}
    ),
}


def enter(client, study: Study, place_on_arm, course: Course) -> int:
    response = client.post(
        "/api/patients/", screening_body(study, diagnosis=course.diagnosis), format="json"
    )
    assert response.status_code == 201, response.json()
    patient_id = response.json()["id"]
    place_on_arm(Patient.objects.get(pk=patient_id), "TAC", day1=DAY1, status="enrolled")
    for test_code, unit, values in (("HGB", "g/L", course.hb), ("PLAT", "10^9/L", course.plt)):
        for day, value in values.items():
            collected = dt.datetime.combine(DAY1 + dt.timedelta(days=day), dt.time(8), dt.UTC)
            body = {"patient": patient_id, "test_code": test_code, "value": str(value),
                    "unit": unit, "collected_at": collected.isoformat()}  # fmt: skip
            assert client.post("/api/lab-results/", body, format="json").status_code == 201
    for day in course.transfusions:
        given = (DAY1 + dt.timedelta(days=day)).isoformat()
        body = {"patient": patient_id, "started_at": given, "stopped_at": given,
                "therapy": "2 units packed red cells", "itp_directed": False,
                "kind": "transfusion"}  # fmt: skip
        assert client.post("/api/rescue-therapies/", body, format="json").status_code == 201
    return patient_id


@pytest.fixture
def cohort(client, study, place_on_arm) -> dict[str, int]:
    return {name: enter(client, study, place_on_arm, course) for name, course in COURSES.items()}


def endpoints_of(client, patient_id: int) -> dict:
    return client.get(f"/api/patients/{patient_id}/assessments/").json()["endpoints"]


# --- Screening: the diagnosis is a required, coded field --------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "Required for this study: one of AIHA, PRCA, EVANS."),
        ({"diagnosis": ""}, "Required for this study: one of AIHA, PRCA, EVANS."),
        ({"diagnosis": "ITP"}, "Unknown diagnosis 'ITP' for this study: one of AIHA, PRCA, EVANS."),
    ],
)
def test_a_screening_without_a_known_diagnosis_is_refused(client, study, extra, message):
    response = client.post("/api/patients/", screening_body(study, **extra), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "diagnosis", "message": message, "code": "invalid"}
    ]
    assert not Patient.objects.filter(study=study).exists()


def test_a_study_without_diagnoses_takes_none(client_for, make_user):
    itp = Study.objects.get(registry_id="NCT05471050")
    client = client_for(make_user("ivy", "investigator", "NCT05471050"))
    body = screening_body(itp, "PKUPH", diagnosis="AIHA")

    refused = client.post("/api/patients/", body, format="json")
    body.pop("diagnosis")
    accepted = client.post("/api/patients/", body, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "diagnosis"
    assert accepted.status_code == 201
    assert (accepted.json()["diagnosis"], accepted.json()["diagnosis_name"]) == ("", "")
    assert Patient.objects.filter(study=itp).count() == 1


def test_the_study_lists_its_diagnoses_and_a_screening_records_one(client, study):
    detail = client.get(f"/api/studies/{study.pk}/").json()
    response = client.post(
        "/api/patients/", screening_body(study, diagnosis="EVANS"), format="json"
    )

    assert detail["current_protocol_version"]["diagnoses"] == [
        {"code": "AIHA", "name": "Autoimmune haemolytic anaemia", "description": ""},
        {"code": "PRCA", "name": "Pure red cell aplasia", "description": ""},
        {
            "code": "EVANS",
            "name": "Evans syndrome",
            "description": "Autoimmune haemolytic anaemia with immune thrombocytopenia.",
        },
    ]
    assert response.status_code == 201
    body = response.json()
    assert (body["diagnosis"], body["diagnosis_name"]) == ("EVANS", "Evans syndrome")
    assert Patient.objects.get(pk=body["id"]).diagnosis == "EVANS"


def test_a_corrected_diagnosis_keeps_its_history_and_reassesses(client, study, place_on_arm):
    patient_id = enter(client, study, place_on_arm, COURSES["P2"])
    url = f"/api/patients/{patient_id}/"
    before = endpoints_of(client, patient_id)
    version = client.get(url).json()["version"]

    wrong = client.patch(
        url, {"diagnosis": "CAD", "reason": "typo", "version": version}, format="json"
    )
    corrected = client.patch(
        url,
        {"diagnosis": "AIHA", "reason": "Diagnosis revised: warm AIHA (DAT IgG+)",
         "version": version},
        format="json",
    )  # fmt: skip

    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "diagnosis"
    assert corrected.status_code == 200, corrected.json()
    assert (corrected.json()["diagnosis"], corrected.json()["version"]) == ("AIHA", version + 1)
    history = client.get(f"{url}history/").json()["results"]
    assert [e["type"] for e in history] == ["created", "changed", "changed"]
    assert history[-1]["reason"] == "Diagnosis revised: warm AIHA (DAT IgG+)"
    assert history[-1]["changes"] == [{"field": "diagnosis", "old": "PRCA", "new": "AIHA"}]
    # As PRCA the transfusion 20 days before the 6-month Hb is within the 56 transfusion-free
    # days (NR); as AIHA only 7 days count, so Hb 90 with a rise of 28 g/L is a PR.
    after = endpoints_of(client, patient_id)
    assert (before["prca_response_6m"]["value"], before["hb_response_6m"]["applicable"]) == (
        "NR",
        False,
    )
    assert (after["hb_response_6m"]["value"], after["prca_response_6m"]["applicable"]) == (
        "PR",
        False,
    )
    assert (
        PatientAssessment.objects.get(patient_id=patient_id).endpoints["hb_response_6m"]["met"]
        is True
    )


# --- Endpoints per patient: only those of the patient's diagnosis apply -----------------------


def test_each_diagnosis_gets_its_own_response_endpoints(client, cohort):
    results = {name: endpoints_of(client, pk) for name, pk in cohort.items()}

    def verdict(name: str, code: str):
        result = results[name][code]
        if not result["applicable"]:
            return "n/a"
        return (result["met"], result["value"])

    # Warm AIHA categories: CR Hb >= 120, PR >= 100 or a rise >= 20, no transfusion in 7 days.
    assert [verdict(n, "hb_response_6m") for n in COURSES] == [
        (True, "CR"),  # A1: 125
        (False, "NR"),  # A2: 85, rise 10
        "n/a",
        "n/a",
        (True, "PR"),  # E1: 118
        (False, "NR"),  # E2: 92, rise 12
    ]
    assert [verdict(n, "hb_response_24m") for n in COURSES] == [
        (True, "PR"),  # A1: 105
        (False, "NR"),  # A2: 90, rise 15
        "n/a",
        "n/a",
        (True, "CR"),  # E1: 122
        (True, "PR"),  # E2: 101
    ]
    # PRCA: CR Hb >= 120, PR a rise >= 20, transfusion-free for 56 days.
    assert [verdict(n, "prca_response_6m") for n in COURSES] == [
        "n/a",
        "n/a",
        (True, "PR"),  # P1: 85, rise 25
        (False, "NR"),  # P2: 90, but transfused on day 160
        "n/a",
        "n/a",
    ]
    assert [verdict(n, "prca_response_24m") for n in COURSES] == [
        "n/a",
        "n/a",
        (True, "CR"),  # P1: 128
        (True, "PR"),  # P2: 100, rise 38, no transfusion since day 160
        "n/a",
        "n/a",
    ]
    # Evans platelets, IWG: R >= 30 and >= 2x baseline, confirmed > 7 days later.
    assert [verdict(n, "plt_response_6m") for n in COURSES] == [
        "n/a",
        "n/a",
        "n/a",
        "n/a",
        (True, None),  # E1: 70 on day 180 (baseline 20), confirmed by 72 on day 190
        (False, None),  # E2: 25
    ]
    assert [verdict(n, "plt_response_24m") for n in COURSES] == [
        "n/a",
        "n/a",
        "n/a",
        "n/a",
        (False, None),  # E1: 25
        (True, None),  # E2: 110 on day 730, confirmed by 105 on day 740
    ]
    assert [results[n]["hb_24m"]["value"] for n in COURSES] == [105, 90, 128, 100, 122, 101]
    assert [results[n]["plt_24m"]["value"] for n in COURSES] == [220, 150, 230, 245, 25, 110]
    not_applicable = results["A1"]["plt_response_6m"]
    assert (not_applicable["met"], not_applicable["value"], not_applicable["event"]) == (
        None,
        None,
        None,
    )
    assert not_applicable["detail"] == "not applicable: applies to EVANS; diagnosis AIHA"


def test_per_visit_platelet_responses_only_where_a_platelet_endpoint_applies(client, cohort):
    aiha = client.get(f"/api/patients/{cohort['A1']}/assessments/").json()
    evans = client.get(f"/api/patients/{cohort['E1']}/assessments/").json()

    assert aiha["visits"] == []
    assert [(v["platelet_count"], v["response"]) for v in evans["visits"]] == [
        (70, "R"),
        (72, "R"),
        (25, "NR"),
    ]


# --- The report: denominators without the not-applicable, and a breakdown by diagnosis --------


def binary(summary: dict) -> tuple:
    return (summary["responders"], summary["n"], summary["rate"], summary.get("not_applicable"))


def test_the_report_counts_each_endpoint_over_the_patients_it_applies_to(
    statistician, study, cohort
):
    body = statistician.get(f"/api/studies/{study.pk}/report/").json()

    assert body["diagnoses"] == [
        {"code": "AIHA", "name": "Autoimmune haemolytic anaemia"},
        {"code": "PRCA", "name": "Pure red cell aplasia"},
        {"code": "EVANS", "name": "Evans syndrome"},
    ]
    definitions = {d["code"]: d["applies_to_diagnoses"] for d in body["endpoint_definitions"]}
    assert definitions["plt_response_6m"] == ["EVANS"]
    assert definitions["hb_6m"] is None
    [arm] = body["arms"]
    assert (arm["code"], arm["n"]) == ("TAC", 6)
    overall = arm["endpoints"]
    assert binary(overall["hb_response_6m"]) == (2, 4, 0.5, 2)
    assert binary(overall["hb_response_24m"]) == (3, 4, 0.75, 2)
    assert binary(overall["prca_response_6m"]) == (1, 2, 0.5, 4)
    assert binary(overall["prca_response_24m"]) == (2, 2, 1.0, 4)
    assert binary(overall["plt_response_6m"]) == (1, 2, 0.5, 4)
    assert binary(overall["plt_response_24m"]) == (1, 2, 0.5, 4)
    assert "not_applicable" not in overall["hb_6m"]  # applies to every patient
    assert (overall["hb_6m"]["n"], overall["hb_6m"]["median"]) == (6, 91)  # 85 85 90 92 118 125

    groups = {g["code"]: g for g in arm["by_diagnosis"]}
    assert [(g["code"], g["name"], g["n"]) for g in arm["by_diagnosis"]] == [
        ("AIHA", "Autoimmune haemolytic anaemia", 2),
        ("PRCA", "Pure red cell aplasia", 2),
        ("EVANS", "Evans syndrome", 2),
    ]
    assert list(groups["AIHA"]["endpoints"]) == [*ALL_PATIENTS, "hb_response_6m", "hb_response_24m"]
    assert list(groups["PRCA"]["endpoints"]) == [
        *ALL_PATIENTS,
        "prca_response_6m",
        "prca_response_24m",
    ]
    assert list(groups["EVANS"]["endpoints"]) == [
        *ALL_PATIENTS,
        "hb_response_6m",
        "hb_response_24m",
        "plt_response_6m",
        "plt_response_24m",
    ]
    assert binary(groups["AIHA"]["endpoints"]["hb_response_6m"]) == (1, 2, 0.5, 0)
    assert binary(groups["AIHA"]["endpoints"]["hb_response_24m"]) == (1, 2, 0.5, 0)
    assert binary(groups["PRCA"]["endpoints"]["prca_response_6m"]) == (1, 2, 0.5, 0)
    assert binary(groups["PRCA"]["endpoints"]["prca_response_24m"]) == (2, 2, 1.0, 0)
    assert binary(groups["EVANS"]["endpoints"]["hb_response_6m"]) == (1, 2, 0.5, 0)
    assert binary(groups["EVANS"]["endpoints"]["hb_response_24m"]) == (2, 2, 1.0, 0)
    assert binary(groups["EVANS"]["endpoints"]["plt_response_6m"]) == (1, 2, 0.5, 0)
    assert binary(groups["EVANS"]["endpoints"]["plt_response_24m"]) == (1, 2, 0.5, 0)
    medians = {
        code: [groups[code]["endpoints"][e]["median"] for e in ALL_PATIENTS] for code in groups
    }
    assert medians == {
        "AIHA": [105, 200, 97.5, 185],
        "PRCA": [87.5, 245, 114, 237.5],
        "EVANS": [105, 47.5, 111.5, 67.5],
    }


def test_the_report_by_diagnosis_in_csv_and_on_the_admin_page(
    statistician, study, cohort, admin_client
):
    text = statistician.get(f"/api/studies/{study.pk}/report/?format=csv").content.decode()
    rows = list(csv.reader(io.StringIO(text)))

    assert rows[0] == ["section", "arm", "endpoint", "statistic", "value"]
    assert ["diagnosis", "TAC/PRCA", "", "n", "2"] in rows
    assert ["endpoint_by_diagnosis", "TAC/EVANS", "plt_response_6m", "responders", "1"] in rows
    assert ["endpoint_by_diagnosis", "TAC/PRCA", "prca_response_24m", "rate", "1.0"] in rows
    assert ["endpoint", "TAC", "prca_response_6m", "not_applicable", "4"] in rows
    assert not any(r[1] == "TAC/AIHA" and r[2] == "plt_response_6m" for r in rows)

    page = admin_client.get(f"/admin/endpoints/patientassessment/report/{study.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Endpoints per arm and diagnosis" in html
    assert "TAC · PRCA — Pure red cell aplasia (n=2)" in html
    assert "1/2 = 0.5" in html and "not applicable" in html


# --- Exports, codebook, casebook --------------------------------------------------------------


def unzip(response) -> dict[str, list[dict]]:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {
        name: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
        for name in archive.namelist()
    }


def test_exports_and_codebook_carry_the_diagnosis(client, study, cohort):
    subjects = dict(Patient.objects.filter(study=study).values_list("pk", "subject_id"))
    flat = unzip(client.get(f"/api/studies/{study.pk}/export/?format=csv"))["patients.csv"]
    sdtm = unzip(client.get(f"/api/studies/{study.pk}/export/?format=sdtm"))
    answer = client.get(f"/api/studies/{study.pk}/codebook/")
    codebook = b"".join(answer.streaming_content).decode()

    labels = {
        "AIHA": "Autoimmune haemolytic anaemia",
        "PRCA": "Pure red cell aplasia",
        "EVANS": "Evans syndrome",
    }
    assert [(r["subject_id"], r["diagnosis"], r["diagnosis_label"]) for r in flat] == [
        (subjects[cohort[name]], course.diagnosis, labels[course.diagnosis])
        for name, course in COURSES.items()
    ]
    mh = sdtm["mh.csv"]
    assert [(r["USUBJID"], r["MHSPID"], r["MHTERM"], r["MHCAT"]) for r in mh][:1] == [
        (f"{REGISTRY_ID}-{subjects[cohort['A1']]}", "AIHA", "Autoimmune haemolytic anaemia",
         "PRIMARY DIAGNOSIS"),
    ]  # fmt: skip
    assert [r["MHSPID"] for r in mh] == [c.diagnosis for c in COURSES.values()]
    assert {(r["MHDTC"], r["MHDY"], r["MHSEQ"]) for r in mh} == {(SCREENED.isoformat(), "-9", "1")}
    # Not-applicable endpoints have no RS record; applicable ones do.
    rs = {(r["USUBJID"], r["RSTESTCD"]) for r in sdtm["rs.csv"] if r["RSCAT"] == "ENDPOINT"}
    evans = f"{REGISTRY_ID}-{subjects[cohort['E1']]}"
    aiha = f"{REGISTRY_ID}-{subjects[cohort['A1']]}"
    assert (evans, "PLT_RESPONSE_6M") in rs and (aiha, "PLT_RESPONSE_6M") not in rs
    row = next(r for r in csv.DictReader(io.StringIO(codebook)) if r["field"] == "diagnosis")
    assert (row["table"], row["required"]) == ("patients", "yes")
    assert row["allowed_codes"] == (
        "AIHA=Autoimmune haemolytic anaemia | PRCA=Pure red cell aplasia | EVANS=Evans syndrome"
    )


def test_the_sdtm_export_of_a_study_without_diagnoses_has_no_mh(client_for, make_user):
    itp = Study.objects.get(registry_id="NCT05471050")
    client = client_for(make_user("dm", "data_manager", "NCT05471050"))

    files = unzip(client.get(f"/api/studies/{itp.pk}/export/?format=sdtm"))

    assert "mh.csv" not in files
    assert "dm.csv" in files


def test_the_casebook_and_the_admin_show_the_diagnosis(admin_client, study, client, place_on_arm):
    patient_id = enter(client, study, place_on_arm, COURSES["E1"])

    casebook = admin_client.get(f"/admin/patients/patient/{patient_id}/casebook/").content.decode()
    form = admin_client.get("/admin/patients/patient/add/").content.decode()

    assert '<dd id="patient-diagnosis">EVANS — Evans syndrome</dd>' in casebook
    assert ">not applicable<" in casebook  # e.g. prca_response_6m for an Evans patient
    assert '<optgroup label="NCT03918265">' in form
    assert '<option value="PRCA">PRCA — Pure red cell aplasia</option>' in form
