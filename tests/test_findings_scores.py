"""ESSDAI and ESSPRI: items entered, totals computed on the server (ecrf.domain.scores)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from trials.models import Study
from visits.findings.models import EssdaiAssessment, EsspriAssessment

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
NO_ACTIVITY = {
    "constitutional": 0,
    "lymphadenopathy": 0,
    "glandular": 0,
    "articular": 0,
    "cutaneous": 0,
    "pulmonary": 0,
    "renal": 0,
    "muscular": 0,
    "peripheral_nervous": 0,
    "central_nervous": 0,
    "haematological": 0,
    "biological": 0,
}
HIGHEST = {
    "constitutional": 2,
    "lymphadenopathy": 3,
    "glandular": 2,
    "articular": 3,
    "cutaneous": 3,
    "pulmonary": 3,
    "renal": 3,
    "muscular": 3,
    "peripheral_nervous": 3,
    "central_nervous": 3,
    "haematological": 3,
    "biological": 2,
}


@pytest.fixture
def client(client_for, make_user):
    return client_for(make_user("ivy", "investigator", "NCT05694130"))


@pytest.fixture
def patient(make_patient):
    return make_patient(Study.objects.get(registry_id="NCT05694130"), "PUMCH")


def essdai(for_patient, **levels) -> dict:
    return {"patient": for_patient.pk, "assessed_on": str(TODAY), **NO_ACTIVITY, **levels}


@pytest.mark.parametrize(
    ("levels", "total", "activity"),
    [
        ({}, 0, "low"),
        ({"haematological": 1, "biological": 2}, 4, "low"),
        ({"haematological": 2, "articular": 1}, 6, "moderate"),
        # 3×1 + 2×1 + 2×2 + 2×3 + 1×2 = 17
        (
            {
                "constitutional": 1,
                "glandular": 1,
                "articular": 2,
                "haematological": 3,
                "biological": 2,
            },
            17,
            "high",
        ),
        ({"central_nervous": 2}, 10, "moderate"),
        (HIGHEST, 123, "high"),
    ],
)
def test_essdai_total_and_activity_are_computed(client, patient, levels, total, activity):
    response = client.post("/api/essdai-assessments/", essdai(patient, **levels), format="json")

    assert response.status_code == 201, response.json()
    assert (response.json()["total"], response.json()["activity"]) == (total, activity)


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ({"central_nervous": 1}, "central_nervous"),  # the CNS domain has no "low" level
        ({"glandular": 3}, "glandular"),  # no "high" level
        ({"constitutional": 3}, "constitutional"),
        ({"biological": 3}, "biological"),
        ({"renal": 4}, "renal"),
        ({"renal": -1}, "renal"),
        ({"renal": None}, "renal"),
        ({"assessed_on": str(TODAY + dt.timedelta(days=1))}, "assessed_on"),
    ],
)
def test_essdai_levels_not_allowed_for_the_domain_are_refused(client, patient, levels, field):
    body = {k: v for k, v in essdai(patient, **levels).items() if v is not None}

    response = client.post("/api/essdai-assessments/", body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not EssdaiAssessment.objects.exists()


def test_a_corrected_level_recomputes_the_total(client, patient):
    created = client.post(
        "/api/essdai-assessments/", essdai(patient, articular=1), format="json"
    ).json()
    url = f"/api/essdai-assessments/{created['id']}/"

    refused = client.patch(
        url, {"central_nervous": 1, "reason": "Neurology review", "version": 1}, format="json"
    )
    corrected = client.patch(
        url, {"central_nervous": 2, "reason": "Neurology review", "version": 1}, format="json"
    )

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "central_nervous"
    assert corrected.status_code == 200
    assert (corrected.json()["total"], corrected.json()["activity"]) == (12, "moderate")
    assert EssdaiAssessment.objects.get().version == 2


def esspri(for_patient, **items) -> dict:
    body = {
        "patient": for_patient.pk,
        "assessed_on": str(TODAY),
        "dryness": "6",
        "fatigue": "5",
        "pain": "4",
    }
    body.update(items)
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(
    ("items", "score", "acceptable"),
    [
        ({}, "5.00", False),  # acceptable means below 5
        ({"dryness": "7", "fatigue": "2", "pain": "3.5"}, "4.17", True),
        ({"dryness": "10", "fatigue": "10", "pain": "10"}, "10.00", False),
        ({"dryness": "0", "fatigue": "0", "pain": "0"}, "0.00", True),
    ],
)
def test_esspri_score_is_the_mean_of_the_three_items(client, patient, items, score, acceptable):
    response = client.post("/api/esspri-assessments/", esspri(patient, **items), format="json")

    assert response.status_code == 201, response.json()
    assert (response.json()["score"], response.json()["acceptable"]) == (score, acceptable)


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ({"dryness": "11"}, "dryness"),
        ({"fatigue": "10.5"}, "fatigue"),
        ({"pain": "-1"}, "pain"),
        ({"pain": None}, "pain"),
        ({"dryness": "a lot"}, "dryness"),
        ({"assessed_on": str(TODAY + dt.timedelta(days=1))}, "assessed_on"),
        ({"patient": 999999}, "patient"),
    ],
)
def test_esspri_items_outside_0_to_10_are_refused(client, patient, items, field):
    response = client.post("/api/esspri-assessments/", esspri(patient, **items), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not EsspriAssessment.objects.exists()


def test_a_corrected_item_recomputes_the_score(client, patient):
    created = client.post("/api/esspri-assessments/", esspri(patient), format="json").json()

    corrected = client.patch(
        f"/api/esspri-assessments/{created['id']}/",
        {"pain": "1", "reason": "Patient re-rated", "version": 1},
        format="json",
    )

    assert corrected.status_code == 200
    assert (corrected.json()["score"], corrected.json()["acceptable"]) == ("4.00", True)
