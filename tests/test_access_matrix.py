"""Issue 13: the access matrix, generated from the OpenAPI schema. For every operation and
role, the documented outcome:

- unauthenticated → 401 (every operation but the token endpoint);
- a record of another study, or of another site of the same study → 404, and nothing of it
  (subject id, registry id) in any answer, lists included;
- a role without the right (monitor: read-only) → 403 on every write, nothing written;
- the own site → 200 on every read.

A new endpoint is in the schema, so it is in this matrix without anyone adding it: if its
records are not scoped, the outsider finds the world's markers and the test fails. A new
`{id}` resource must name its model in MODEL_OF_SEGMENT (the test says so).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from ecrf.models import Job, JobState
from visits.labs.models import LabResult
from visits.models import Visit
from visits.safety.models import AdverseEvent

pytestmark = pytest.mark.django_db

OPERATIONS = sorted(
    (method.upper(), path)
    for path, operations in SchemaGenerator().get_schema(request=None, public=True)["paths"].items()
    for method in operations
)
PUBLIC = {("POST", "/api/auth/token/")}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

# What `{id}` names, by the first segment of the path. A path not listed fails the matrix.
MODEL_OF_SEGMENT = {
    "adverse-events": "safety.AdverseEvent",
    "ae-drug-assessments": "safety.AeDrugAssessment",
    "allocation-lists": "randomization.AllocationList",
    "bleeding-assessments": "findings.BleedingAssessment",
    "ctcae": "safety.CtcaeTerm",
    "dose-adjustments": "dosing.DoseAdjustment",
    "dose-records": "dosing.DoseRecord",
    "ecog-assessments": "findings.EcogAssessment",
    "essdai-assessments": "findings.EssdaiAssessment",
    "jobs": "ecrf.Job",
    "esspri-assessments": "findings.EsspriAssessment",
    "lab-results": "labs.LabResult",
    "locks": "review.DataLock",
    "patients": "patients.Patient",
    "queries": "review.Query",
    "reference-ranges": "labs.ReferenceRange",
    "rescue-therapies": "findings.RescueTherapy",
    "sdv": "review.SourceVerification",
    "studies": "trials.Study",
    "visits": "visits.Visit",
    "vital-signs": "findings.VitalSigns",
}
# Reads that only monitors and data managers may make (tests/test_exports_audit_log.py checks
# that they can).
MONITORING_READS = {"/api/audit/"}
# Writes a monitor may make (issue 14: the monitor's side of a query): with an empty body they
# are a 400 naming the missing field, and nothing is written.
MONITOR_WRITES = {
    ("POST", "/api/queries/{id}/close/"),
    ("POST", "/api/queries/{id}/reopen/"),
    # Source data verification (issue 14): marking a record verified is the monitor's work.
    ("POST", "/api/sdv/"),
}
NEEDS_MORE_DATA = {"/api/patients/{id}/dosing/tacrolimus/proposal/"}
# Shared reference data, the same for everyone: not site-bound.
UNSCOPED_MODELS = {"safety.CtcaeTerm", "labs.ReferenceRange"}


def segment(path: str) -> str:
    return path.removeprefix("/api/").split("/")[0]


def model_of(path: str) -> str:
    assert segment(path) in MODEL_OF_SEGMENT, f"{path}: name its model in MODEL_OF_SEGMENT"
    return MODEL_OF_SEGMENT[segment(path)]


@pytest.fixture
def world(multisite_study, make_patient, screen_eligible, allocation_list, record_adverse_event):
    """One randomized patient at PKUPH with labs, ECOG, consent, eligibility, visits and an
    adverse event; the records every role probes."""
    patient = screen_eligible(make_patient(multisite_study, "PKUPH"))
    listing = allocation_list(multisite_study, seed=3, size=4)
    from django.contrib.auth import get_user_model

    from patients.randomization import patient_randomize

    admin = get_user_model().objects.get(username="fixture-admin")
    patient_randomize(actor=admin, patient=patient, randomized_at=dt.date(2025, 1, 7))
    patient.refresh_from_db()
    record_adverse_event(patient, onset=dt.date(2025, 1, 20))
    # A job of the patient's site whose result names the patient (issue 12: jobs are scoped too).
    job = Job.objects.create(
        kind="lab_import",
        study=multisite_study,
        site=patient.site,
        state=JobState.DONE,
        result={"subjects": [patient.subject_id]},
    )
    from visits.review.locks import lock_place
    from visits.review.queries import query_raise

    lab_id = LabResult.objects.filter(patient=patient).first().pk
    query = query_raise(
        actor=admin, resource="lab-results", record_id=lab_id, field="value", text="Check"
    )
    from visits.review.sdv import sdv_mark

    verification = sdv_mark(actor=admin, resource="lab-results", record_id=lab_id)
    visit = Visit.objects.filter(patient=patient).order_by("target_date").last()
    freeze = lock_place(actor=admin, kind="freeze", scope="visit", visit=visit, reason="Cleaning")
    instances = {
        "ecrf.Job": job.pk,
        "patients.Patient": patient.pk,
        "trials.Study": multisite_study.pk,
        "randomization.AllocationList": listing.pk,
        "labs.LabResult": LabResult.objects.filter(patient=patient).first().pk,
        "findings.EcogAssessment": apps.get_model("findings.EcogAssessment")
        .objects.get(patient=patient)
        .pk,
        "visits.Visit": Visit.objects.filter(patient=patient).first().pk,
        "safety.AdverseEvent": AdverseEvent.objects.get(patient=patient).pk,
        "review.Query": query.pk,
        "review.DataLock": freeze.pk,
        "review.SourceVerification": verification.pk,
    }
    return {"patient": patient, "ids": instances, "markers": [patient.subject_id]}


def concrete(path: str, ids: dict) -> str | None:
    """The path for the world's record, or None when the world has no record of its kind."""
    if "{id}" not in path:
        return path
    pk = ids.get(model_of(path))
    return None if pk is None else path.replace("{id}", str(pk))


def call(client: APIClient, method: str, path: str):
    return getattr(client, method.lower())(path, {}, format="json")


def history_rows() -> int:
    return sum(
        model.objects.count()
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
    )


def test_every_operation_is_mapped():
    assert len(OPERATIONS) >= 100
    for _, path in OPERATIONS:
        if "{id}" in path:
            model_of(path)


def test_unauthenticated_gets_401_everywhere(world):
    client = APIClient()
    wrong = []
    for method, path in OPERATIONS:
        if (method, path) in PUBLIC:
            continue
        response = call(client, method, concrete(path, world["ids"]) or path.replace("{id}", "1"))
        if response.status_code != 401 or response.json().get("code") != "not_authenticated":
            wrong.append((method, path, response.status_code))
    assert wrong == []


def expected_status(path: str, role: str, *, other_study: bool) -> set[int] | None:
    """404 for a record the user may not see; None where the resource is theirs or shared
    (then only the absence of the world's markers is checked)."""
    if "{id}" not in path or model_of(path) in UNSCOPED_MODELS:
        return None
    if model_of(path) == "trials.Study":
        return {404} if other_study else None
    if model_of(path) == "randomization.AllocationList":
        # A study-level list: a data manager of the study sees it, but only their sites' slots.
        return None if role == "data_manager" and not other_study else {404}
    return {404}


@pytest.mark.parametrize(
    ("role", "registry_id", "sites"),
    [
        ("data_manager", "NCT05471050", []),  # another study
        ("investigator", "NCT03304288", ["BJH"]),  # another site of the same study
        ("data_manager", "NCT03304288", ["BJH"]),
        ("monitor", "NCT03304288", ["BJH"]),
    ],
)
def test_records_of_another_study_or_site_are_absent(
    world, make_user, client_for, role, registry_id, sites
):
    client = client_for(make_user("outsider", role, registry_id, sites))
    before = history_rows()
    wrong = []
    for method, path in OPERATIONS:
        target = concrete(path, world["ids"])
        if target is None or (method, path) in PUBLIC:
            continue
        response = call(client, method, target)
        # Exports stream their content; every byte is searched for the other site's markers.
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode(errors="replace")
        leaked = [marker for marker in world["markers"] if marker in text]
        expected = expected_status(path, role, other_study=registry_id != "NCT03304288")
        if leaked or (expected is not None and response.status_code not in expected):
            wrong.append((method, path, response.status_code, leaked))
    assert wrong == []
    assert history_rows() == before


def test_a_read_only_role_gets_403_on_every_write_and_nothing_changes(world, make_user, client_for):
    client = client_for(make_user("mona", "monitor", "NCT03304288", ["PKUPH"]))
    before = history_rows()
    wrong = []
    for method, path in OPERATIONS:
        target = concrete(path, world["ids"])
        if method not in WRITES or target is None or (method, path) in PUBLIC:
            continue
        response = call(client, method, target)
        # A record's writes: 403 before anything is read. A collection's POST names its patient
        # in the body, so an empty body may be refused as invalid first (400).
        allowed = {403} if "{id}" in path else {400, 403}
        if (method, path) in MONITOR_WRITES:
            allowed = {400}
        if response.status_code not in allowed:
            wrong.append((method, path, response.status_code))
    assert wrong == []
    assert history_rows() == before


def test_the_own_site_reads_everything(world, make_user, client_for):
    client = client_for(make_user("ivy", "investigator", "NCT03304288", ["PKUPH"]))
    wrong = []
    for method, path in OPERATIONS:
        target = concrete(path, world["ids"])
        if method != "GET" or target is None:
            continue
        if "{id}" in path and model_of(path) == "randomization.AllocationList":
            continue  # concealed from investigators by design (tests/test_randomization.py)
        response = call(client, method, target)
        # The tacrolimus proposal needs a tacrolimus arm and a trough: 400 naming what lacks.
        expected = 400 if path in NEEDS_MORE_DATA else 200
        if path in MONITORING_READS:
            expected = 403  # the audit log is for monitors and data managers only
        if response.status_code != expected:
            wrong.append((method, path, response.status_code))
    assert wrong == []
    body = client.get("/api/patients/").json()
    assert [p["subject_id"] for p in body["results"]] == [world["patient"].subject_id]
