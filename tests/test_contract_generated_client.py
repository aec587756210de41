"""A typed client generated from the live schema works: every module imports, and a patient's
course runs through it (issue 11).

openapi-python-client generates the client from /api/schema/ of a live server (no post hooks:
nothing but the generator runs, offline); the course then goes over HTTP on loopback, every answer
parsed by the generated models, so an answer the schema does not describe fails here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NORMAL_SCREENING_PANEL
from tests.contract_support import live_schema, prepare_site

pytestmark = [pytest.mark.contract, pytest.mark.django_db(transaction=True)]

PACKAGE = "ecrf_client"
GENERATOR_CONFIG = {
    "project_name_override": PACKAGE,
    "package_name_override": PACKAGE,
    "post_hooks": [],
}


def generate_client(base_url: str, token: str, directory: Path):
    schema_path = directory / "openapi.json"
    schema_path.write_text(json.dumps(live_schema(base_url, token)))
    config_path = directory / "generator.json"
    config_path.write_text(json.dumps(GENERATOR_CONFIG))
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(schema_path),
            "--config",
            str(config_path),
            "--meta",
            "none",
            "--output-path",
            str(directory / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Warnings mean parts of the schema were skipped: the client would lack them.
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(directory))
    return importlib.import_module(PACKAGE)


def import_every_module(package) -> tuple[int, list[str]]:
    imported, failed = 0, []
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        try:
            importlib.import_module(module.name)
            imported += 1
        except Exception as exc:  # every failure is reported, not just the first
            failed.append(f"{module.name}: {exc!r}")
    return imported, failed


@pytest.fixture
def generated(live_server, tmp_path):
    study, token = prepare_site()
    package = generate_client(live_server.url, token, tmp_path)
    yield package, study, token
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def test_every_generated_module_imports_and_a_patient_course_runs_through_the_client(
    generated, live_server
):
    package, study, token = generated
    imported, failed = import_every_module(package)
    assert failed == []
    assert imported > 300  # 144+ operations and their models

    def api(tag: str, operation: str):
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")

    def model(name: str):
        module = importlib.import_module(f"{PACKAGE}.models.{name}")
        return getattr(module, "".join(part.title() for part in name.split("_")))

    client = package.AuthenticatedClient(
        base_url=live_server.url, token=token, prefix="Token", raise_on_unexpected_status=True
    )

    def ok(response, status: int):
        assert response.status_code == status, response.content
        return response.parsed

    today = dt.date.today()
    yesterday = today - dt.timedelta(days=1)
    site = study.sites.get(code="PKUPH")

    # Screening: the patient, consent, the lab panel and ECOG, then eligibility.
    patient = ok(
        api("patients", "patients_create").sync_detailed(
            client=client,
            body=model("patient_create_request").from_dict(
                {
                    "study": study.pk,
                    "site": site.pk,
                    "sex": "F",
                    "birth_date": "1980-05-17",
                    "height_cm": "165.0",
                    "weight_kg": "60.0",
                    "screened_on": yesterday.isoformat(),
                }
            ),
        ),
        201,
    )
    assert (patient.status, patient.study, patient.site) == ("screening", study.pk, site.pk)
    assert patient.subject_id

    consent = ok(
        api("patients", "patients_consent_create").sync_detailed(
            patient.id,
            client=client,
            body=model("consent_create_request").from_dict(
                {"consented_at": yesterday.isoformat(), "consent_version": "1.0"}
            ),
        ),
        201,
    )
    consents = ok(
        api("patients", "patients_consent_list").sync_detailed(patient.id, client=client), 200
    )
    assert [c.id for c in consents.results] == [consent.id]

    collected = dt.datetime.combine(
        yesterday, dt.time(8, 0), tzinfo=dt.timezone(dt.timedelta(hours=8))
    )
    labs = {}
    for code, value, unit, lln, uln in NORMAL_SCREENING_PANEL:
        body = {
            "patient": patient.id,
            "collected_at": collected.isoformat(),
            "test_code": code,
            "value": value,
            "unit": unit,
            "accession": f"ACC-{code}",
        }
        body |= {k: v for k, v in (("lln", lln), ("uln", uln)) if v is not None}
        labs[code] = ok(
            api("lab_results", "lab_results_create").sync_detailed(
                client=client, body=model("lab_result_create_request").from_dict(body)
            ),
            201,
        )
    assert labs["PLAT"].indicator is None  # no range sent nor stored: null, not ""
    assert labs["ALT"].indicator == "NORMAL"
    assert labs["ALT"].accession == "ACC-ALT"

    # Retries as a lab interface makes them: the same accession again is the stored result
    # (200); a POST retried with its Idempotency-Key gets the first answer, marked replayed.
    resent = ok(
        api("lab_results", "lab_results_create").sync_detailed(
            client=client, body=model("lab_result_create_request").from_dict(body)
        ),
        200,
    )
    assert resent.id == labs[body["test_code"]].id
    ecog_body = model("ecog_assessment_create_request").from_dict(
        {"patient": patient.id, "assessed_on": yesterday.isoformat(), "score": 1}
    )
    ecog_answers = [
        api("ecog_assessments", "ecog_assessments_create").sync_detailed(
            client=client, body=ecog_body, idempotency_key=f"ecog-{patient.id}"
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in ecog_answers] == [201, 201]
    assert ecog_answers[1].headers["Idempotent-Replayed"] == "true"
    assert ecog_answers[0].parsed.id == ecog_answers[1].parsed.id

    first = ok(
        api("patients", "patients_eligibility_create").sync_detailed(patient.id, client=client),
        201,
    )
    answers = {c.code: c.kind == "inclusion" for c in first.criteria if c.source == "investigator"}
    assessment = ok(
        api("patients", "patients_eligibility_create").sync_detailed(
            patient.id,
            client=client,
            body=model("eligibility_request_request").from_dict({"answers": answers}),
        ),
        201,
    )
    assert assessment.eligible is True

    # Randomization, the first visit, an adverse event.
    allocation = ok(
        api("patients", "patients_randomize_create").sync_detailed(
            patient.id,
            client=client,
            body=model("randomize_request_request").from_dict({}),
        ),
        201,
    )
    assert allocation.arm in {"TAC_DAN", "DAN"}

    visits = ok(
        api("patients", "patients_visits_list").sync_detailed(patient.id, client=client), 200
    )
    first_visit = visits[0] if isinstance(visits, list) else visits.results[0]
    recorded = ok(
        api("visits", "visits_record_create").sync_detailed(
            first_visit.id,
            client=client,
            body=model("visit_outcome_request").from_dict(
                {"status": "completed", "actual_date": today.isoformat()}
            ),
        ),
        200,
    )
    assert recorded.status == "completed"

    event = ok(
        api("adverse_events", "adverse_events_create").sync_detailed(
            client=client,
            body=model("adverse_event_create_request").from_dict(
                {
                    "patient": patient.id,
                    "term": "Bruising",
                    "verbatim": "Bruises on both shins",
                    "onset_date": today.isoformat(),
                    "grade": 1,
                    "outcome": "not_recovered",
                    "drug_assessments": [
                        {
                            "drug": "danazol",
                            "causality": "possible",
                            "action_taken": "dose_not_changed",
                        }
                    ],
                }
            ),
        ),
        201,
    )
    assert event.grade == 1

    # A correction with If-Match, a void with the version, and the history of both.
    alt = labs["ALT"]
    corrected_response = api("lab_results", "lab_results_partial_update").sync_detailed(
        alt.id,
        client=client,
        if_match=f'"{alt.version}"',
        body=model("patched_lab_result_update_request").from_dict(
            {"value": "31", "reason": "Transcription error"}
        ),
    )
    corrected = ok(corrected_response, 200)
    assert (corrected.value, corrected.version) == ("31", alt.version + 1)
    assert corrected_response.headers["ETag"] == f'"{corrected.version}"'

    voided = ok(
        api("adverse_events", "adverse_events_destroy").sync_detailed(
            event.id, client=client, reason="Entered for the wrong patient", version=event.version
        ),
        200,
    )
    assert voided.is_voided is True
    events = api("adverse_events", "adverse_events_list")
    assert ok(events.sync_detailed(client=client, patient=patient.id), 200).count == 0
    mirrored = ok(events.sync_detailed(client=client, patient=patient.id, include_voided=True), 200)
    assert [(e.id, e.is_voided) for e in mirrored.results] == [(event.id, True)]

    history = ok(
        api("lab_results", "lab_results_history_list").sync_detailed(alt.id, client=client), 200
    )
    assert [entry.type_ for entry in history.results] == ["created", "changed"]
    change = {c.field: (c.old, c.new) for c in history.results[1].changes}
    assert change["value"] == ("30", "31")

    # What the course adds up to: per-visit assessments and the study report.
    assessments = ok(
        api("patients", "patients_assessments_retrieve").sync_detailed(patient.id, client=client),
        200,
    )
    assert assessments.subject_id == patient.subject_id
    report = ok(
        api("studies", "studies_report_retrieve").sync_detailed(study.pk, client=client), 200
    )
    assert report.additional_properties["consort"]["allocated"] == 1
