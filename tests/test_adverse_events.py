"""Adverse events: CTCAE-coded, graded, serious or not, with causality per study drug."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.audit import save_audited
from tests.diagnosis_support import screening_diagnosis
from trials.models import Study
from visits.models import Visit
from visits.safety.models import AdverseEvent, AdverseEventDrugAssessment

pytestmark = pytest.mark.django_db

ARM_DRUGS = {
    ("NCT05471050", "TAC_DAN"): ["danazol", "tacrolimus"],
    ("NCT05471050", "DAN"): ["danazol"],
    ("NCT03918265", "TAC"): ["tacrolimus"],
    ("NCT03304288", "RTX_ATRA"): ["ATRA", "rituximab"],
    ("NCT03304288", "RTX"): ["rituximab"],
    ("NCT05694130", "PRED_TAC"): ["prednisolone", "tacrolimus"],
    ("NCT05694130", "PRED"): ["prednisolone"],
}


def randomize(patient, arm_code: str, day1=dt.date(2025, 1, 20)):
    """The randomization API is someone else's; tests set its outcome directly (audited)."""
    patient.arm = patient.study.arms.get(code=arm_code)
    patient.day1 = day1
    patient.status = "randomized"
    patient.version += 1
    return save_audited(patient, actor=None, reason="test: randomized")


@pytest.fixture
def investigator(make_user):
    return make_user("ines", "investigator", "NCT05471050")


@pytest.fixture
def client(client_for, investigator):
    return client_for(investigator)


@pytest.fixture
def patient(study, make_patient, investigator):
    return randomize(make_patient(study, "PKUPH", actor=investigator), "TAC_DAN")


def ae_body(patient, /, **overrides):
    values = {
        "patient": patient.pk,
        "term": "Bruising",
        "verbatim": "Bruises on both shins",
        "onset_date": "2025-02-10",
        "grade": 1,
        "outcome": "not_recovered",
        "drug_assessments": [
            {"drug": "tacrolimus", "causality": "possible", "action_taken": "dose_not_changed"},
            {"drug": "danazol", "causality": "unlikely", "action_taken": "dose_not_changed"},
        ],
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def post(client, patient, /, **overrides):
    return client.post("/api/adverse-events/", ae_body(patient, **overrides), format="json")


# --- Recording ----------------------------------------------------------------------------------


def test_event_is_recorded_with_its_drug_assessments_in_one_go(client, patient):
    response = post(client, patient)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["term"]["term"] == "Bruising"
    assert data["term"]["meddra_code"] == "10006504"
    assert (data["grade"], data["grade_text"]) == (1, "Localized or in a dependent area")
    assert data["is_serious"] is False
    assert data["reporting_deadline"] is None
    assert [(a["drug"], a["causality"]) for a in data["drug_assessments"]] == [
        ("danazol", "unlikely"),
        ("tacrolimus", "possible"),
    ]
    assert response["ETag"] == '"1"'
    event = AdverseEvent.objects.get()
    assert event.history.get().history_change_reason == "Adverse event reported"
    assert all(a.history.count() == 1 for a in event.drug_assessments.all())


def test_term_can_be_given_by_meddra_code(client, patient):
    response = post(client, patient, term="10006504")
    assert response.status_code == 201
    assert response.json()["term"]["term"] == "Bruising"


@pytest.mark.parametrize("registry_id,arm_code", sorted(ARM_DRUGS))
def test_every_study_and_arm_takes_events_assessed_for_each_study_drug(
    client_for, make_user, make_patient, registry_id, arm_code
):
    study = Study.objects.get(registry_id=registry_id)
    site = study.sites.order_by("code").first()
    user = make_user(f"inv-{registry_id}", "investigator", registry_id, [site.code])
    patient = randomize(
        make_patient(study, site.code, actor=user, **screening_diagnosis(study)), arm_code
    )
    drugs = ARM_DRUGS[(registry_id, arm_code)]
    assessments = [
        {"drug": drug.upper(), "causality": "possible", "action_taken": "dose_reduced"}
        for drug in drugs
    ]
    response = post(client_for(user), patient, drug_assessments=assessments)
    assert response.status_code == 201, response.json()
    assert [a["drug"] for a in response.json()["drug_assessments"]] == sorted(drugs)


def test_serious_event_shows_its_24_hour_reporting_deadline(client, patient):
    response = post(
        client,
        patient,
        term="Intracranial hemorrhage",
        grade=4,
        is_serious=True,
        seriousness_criteria=["life_threatening", "hospitalisation"],
        site_aware_at="2025-02-10T21:15:00+08:00",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["seriousness_criteria"] == ["life_threatening", "hospitalisation"]
    assert data["site_aware_at"] == "2025-02-10T13:15:00Z"
    assert data["reporting_deadline"] == "2025-02-11T13:15:00Z"


def test_fatal_event_is_grade_5_and_serious_by_death(client, patient):
    response = post(
        client,
        patient,
        term="Intracranial hemorrhage",
        grade=5,
        outcome="fatal",
        resolution_date="2025-02-12",
        is_serious=True,
        seriousness_criteria=["death"],
        site_aware_at="2025-02-12T08:00:00Z",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["grade_text"] == "Death"


# --- Bad input: 400 naming the field, nothing stored ------------------------------------------

SERIOUS = {"is_serious": True, "seriousness_criteria": ["hospitalisation"],
           "site_aware_at": "2025-02-11T08:00:00Z"}  # fmt: skip

BAD_EVENTS = [
    ({"term": "Broken heart"}, "term"),
    ({"grade": 3}, "grade"),  # Bruising has grades 1 and 2 only
    ({"grade": 6}, "grade"),
    ({"verbatim": "  "}, "verbatim"),
    ({"onset_date": "2999-01-01"}, "onset_date"),
    ({"onset_date": "2024-12-31"}, "onset_date"),  # before screening on 2025-01-06
    ({"resolution_date": "2025-02-01", "outcome": "recovered"}, "resolution_date"),
    ({"resolution_date": "2025-02-20"}, "outcome"),  # ended, yet "not recovered"
    ({"outcome": "recovered"}, "resolution_date"),
    ({"outcome": "resolved"}, "outcome"),
    ({**SERIOUS, "seriousness_criteria": []}, "seriousness_criteria"),
    ({**SERIOUS, "site_aware_at": None}, "site_aware_at"),
    ({**SERIOUS, "site_aware_at": "2025-02-09T08:00:00Z"}, "site_aware_at"),
    ({**SERIOUS, "site_aware_at": "2999-02-09T08:00:00Z"}, "site_aware_at"),
    ({**SERIOUS, "seriousness_criteria": ["bad_luck"]}, "seriousness_criteria.0"),
    ({"seriousness_criteria": ["hospitalisation"]}, "is_serious"),
    ({"term": "Intracranial hemorrhage", "grade": 5}, "outcome"),
    ({"term": "Intracranial hemorrhage", "grade": 4, "outcome": "fatal",
      "resolution_date": "2025-02-12", **SERIOUS}, "grade"),
    ({"term": "Intracranial hemorrhage", "grade": 5, "outcome": "fatal",
      "resolution_date": "2025-02-12", **SERIOUS}, "seriousness_criteria"),
    ({"drug_assessments": [{"drug": "rituximab", "causality": "possible",
                            "action_taken": "dose_not_changed"}]}, "drug_assessments.0.drug"),
    ({"drug_assessments": [
        {"drug": "danazol", "causality": "possible", "action_taken": "dose_not_changed"},
        {"drug": "Danazol", "causality": "unlikely", "action_taken": "dose_not_changed"}]},
     "drug_assessments.1.drug"),
    ({"drug_assessments": [{"drug": "danazol", "causality": "maybe",
                            "action_taken": "dose_not_changed"}]}, "drug_assessments.0.causality"),
    ({"drug_assessments": [{"drug": "danazol", "causality": "possible",
                            "action_taken": "shrugged"}]}, "drug_assessments.0.action_taken"),
    ({"patient": 999999}, "patient"),
]  # fmt: skip


@pytest.mark.parametrize("overrides,field", BAD_EVENTS)
def test_bad_event_is_a_400_naming_the_field_and_stores_nothing(client, patient, overrides, field):
    response = post(client, patient, **overrides)
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not AdverseEvent.objects.exists()
    assert not AdverseEventDrugAssessment.objects.exists()


def test_causality_needs_an_arm(client, study, make_patient, investigator):
    unrandomized = make_patient(study, "PKUPH", actor=investigator)
    response = post(client, unrandomized)
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "drug_assessments.0.drug",
        "message": "'tacrolimus' is not a study drug of this patient's arm "
        "(study drugs: none: the patient has no arm yet).",
        "code": "invalid",
    }
    assert post(client, unrandomized, drug_assessments=[]).status_code == 201


def test_patient_of_another_study_is_unknown(client, multisite_study, make_patient):
    foreign = make_patient(multisite_study, "PKUPH")
    response = post(client, foreign, drug_assessments=[])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "patient"
    assert not AdverseEvent.objects.exists()


def test_visit_of_another_patient_is_refused(client, patient, study, make_patient):
    other = make_patient(study, "PKUPH")
    visit = save_audited(
        Visit(patient=other, code="U1", unscheduled_number=1, actual_date=dt.date(2025, 2, 10),
              status="completed"),
        actor=None, reason="test visit",
    )  # fmt: skip
    response = post(client, patient, visit=visit.pk)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "visit"
    assert not AdverseEvent.objects.exists()


def test_monitor_cannot_record_events(client_for, make_user, patient):
    monitor = make_user("mo", "monitor", "NCT05471050")
    assert post(client_for(monitor), patient).status_code == 403
    assert not AdverseEvent.objects.exists()


# --- Follow-up: audited updates, not new events -------------------------------------------------


def test_grade_change_is_an_audited_update_of_the_same_event(client, patient):
    created = post(client, patient).json()
    url = f"/api/adverse-events/{created['id']}/"
    response = client.patch(
        url, {"grade": 2, "reason": "Bruising now generalized"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["id"], response.json()["grade"], response.json()["version"]) == (
        created["id"], 2, 2
    )  # fmt: skip
    assert response["ETag"] == '"2"'
    assert AdverseEvent.objects.count() == 1
    history = client.get(f"{url}history/").json()["results"]
    assert [e["type"] for e in history] == ["created", "changed"]
    assert history[1]["reason"] == "Bruising now generalized"
    assert history[1]["changes"] == [{"field": "grade", "old": 1, "new": 2}]


def test_resolution_and_seriousness_can_be_added_on_follow_up(client, patient):
    created = post(client, patient).json()
    response = client.patch(
        f"/api/adverse-events/{created['id']}/",
        {
            "resolution_date": "2025-02-20",
            "outcome": "recovered",
            "is_serious": True,
            "seriousness_criteria": ["other_important"],
            "site_aware_at": "2025-02-11T09:00:00Z",
            "reason": "Follow-up visit",
            "version": 1,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["seriousness_criteria"] == ["other_important"]
    assert response.json()["reporting_deadline"] == "2025-02-12T09:00:00Z"
    # The history names the flag as the answer does (not the stored column `serious_...`).
    history = client.get(f"/api/adverse-events/{created['id']}/history/").json()["results"]
    changed = {c["field"]: (c["old"], c["new"]) for c in history[1]["changes"]}
    assert changed["seriousness_criteria.other_important"] == (False, True)
    assert changed["is_serious"] == (False, True)
    assert not [name for name in changed if name.startswith("serious_")]


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"grade": 4}, "grade"),
        ({"resolution_date": "2025-02-01", "outcome": "recovered"}, "resolution_date"),
        ({"is_serious": True, "seriousness_criteria": ["death"]}, "site_aware_at"),
        ({"term": "Nonsense"}, "term"),
        ({"reason": ""}, "reason"),
    ],
)
def test_bad_follow_up_is_refused_and_changes_nothing(client, patient, changes, field):
    created = post(client, patient).json()
    body = {"reason": "follow-up", "version": 1, **changes}
    response = client.patch(f"/api/adverse-events/{created['id']}/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    event = AdverseEvent.objects.get()
    assert (event.grade, event.version, event.history.count()) == (1, 1, 1)


def test_stale_version_is_a_conflict_and_changes_nothing(client, patient):
    created = post(client, patient).json()
    url = f"/api/adverse-events/{created['id']}/"
    assert (
        client.patch(url, {"grade": 2, "reason": "a", "version": 1}, format="json").status_code
        == 200
    )
    stale = client.patch(url, {"grade": 1, "reason": "b", "version": 1}, format="json")
    assert stale.status_code == 409
    assert AdverseEvent.objects.get().grade == 2


def test_void_keeps_the_event_in_history(client, patient):
    created = post(client, patient).json()
    response = client.delete(
        f"/api/adverse-events/{created['id']}/",
        {"reason": "Entered for the wrong patient", "version": 1},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["is_voided"] is True
    assert AdverseEvent.objects.get().void_reason == "Entered for the wrong patient"


# --- Drug assessments on their own --------------------------------------------------------------


def test_assessment_can_be_added_changed_and_voided(client, patient):
    created = post(client, patient, drug_assessments=[]).json()
    added = client.post(
        "/api/ae-drug-assessments/",
        {"adverse_event": created["id"], "drug": "Tacrolimus", "causality": "possible",
         "action_taken": "dose_reduced"},
        format="json",
    )  # fmt: skip
    assert added.status_code == 201, added.json()
    assert added.json()["drug"] == "tacrolimus"
    url = f"/api/ae-drug-assessments/{added.json()['id']}/"
    changed = client.patch(
        url,
        {"causality": "probable", "reason": "Re-challenge positive", "version": 1},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["causality"], changed.json()["version"]) == ("probable", 2)
    duplicate = client.post(
        "/api/ae-drug-assessments/",
        {"adverse_event": created["id"], "drug": "tacrolimus", "causality": "unrelated",
         "action_taken": "dose_not_changed"},
        format="json",
    )  # fmt: skip
    assert duplicate.status_code == 400
    assert duplicate.json()["errors"][0]["field"] == "drug"
    voided = client.delete(url, {"reason": "wrong drug", "version": 2}, format="json")
    assert voided.status_code == 200
    event = client.get(f"/api/adverse-events/{created['id']}/").json()
    assert event["drug_assessments"] == []


def test_assessment_for_a_drug_outside_the_arm_is_refused(client, patient):
    created = post(client, patient, drug_assessments=[]).json()
    response = client.post(
        "/api/ae-drug-assessments/",
        {"adverse_event": created["id"], "drug": "ATRA", "causality": "possible",
         "action_taken": "dose_reduced"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "drug"
    assert not AdverseEventDrugAssessment.objects.exists()


# --- Reading ------------------------------------------------------------------------------------


def test_list_takes_a_bounded_number_of_queries(client, patient, django_assert_max_num_queries):
    for day in range(10, 20):
        post(client, patient, onset_date=f"2025-02-{day}")
    with django_assert_max_num_queries(8):
        listing = client.get("/api/adverse-events/", {"patient": patient.pk})
    assert listing.json()["count"] == 10
    assert all(len(e["drug_assessments"]) == 2 for e in listing.json()["results"])


def test_events_of_other_sites_are_invisible(client_for, make_user, multisite_study, make_patient):
    navy_user = make_user("nav", "investigator", "NCT03304288", ["NAVY"])
    pkuph_user = make_user("pk", "investigator", "NCT03304288", ["PKUPH"])
    navy_patient = make_patient(multisite_study, "NAVY", actor=navy_user)
    created = post(client_for(navy_user), navy_patient, drug_assessments=[]).json()
    assert client_for(pkuph_user).get(f"/api/adverse-events/{created['id']}/").status_code == 404


# --- Lab-based suggestions ------------------------------------------------------------------------


def add_lab(client, patient, **values):
    body = {"patient": patient.pk, "collected_at": "2025-02-10T08:00:00Z", **values}
    response = client.post("/api/lab-results/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_suggestions_list_graded_lab_values_not_excluded_by_the_protocol(client, patient):
    alt = add_lab(client, patient, test_code="ALT", value="130", unit="U/L", lln="0", uln="40")
    add_lab(client, patient, test_code="PLAT", value="20", unit="10^9/L", lln="150", uln="400")
    add_lab(client, patient, test_code="HGB", value="130", unit="g/L", lln="120", uln="160")
    response = client.get(f"/api/patients/{patient.pk}/ae-suggestions/")
    assert response.status_code == 200
    [suggestion] = response.json()["results"]  # platelets: excluded; haemoglobin: grade 0
    assert suggestion["lab_result_id"] == alt["id"]
    assert (suggestion["term"], suggestion["grade"]) == ("Alanine aminotransferase increased", 2)
    assert suggestion["adverse_event_id"] is None

    event = post(client, patient, term=suggestion["meddra_code"], grade=2,
                 verbatim="Raised ALT", lab_result=alt["id"]).json()  # fmt: skip
    again = client.get(f"/api/patients/{patient.pk}/ae-suggestions/").json()["results"]
    assert again[0]["adverse_event_id"] == event["id"]


def test_suggestions_of_a_foreign_patient_are_not_found(client_for, make_user, patient):
    outsider = make_user("out", "investigator", "NCT03304288")
    assert (
        client_for(outsider).get(f"/api/patients/{patient.pk}/ae-suggestions/").status_code == 404
    )
