"""Diagnoses a study enrols together, and endpoints restricted to some of them (pure domain, no
database): NCT03918265's AIHA, PRCA and Evans syndrome patients."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecrf.domain.diagnoses import (
    diagnosis_name,
    diagnosis_problem,
    parse_applies_to,
    validated_diagnoses,
)
from ecrf.domain.endpoints import (
    Observation,
    PatientCourse,
    build_endpoint_specs,
    evaluate_endpoint,
    platelet_responses_apply,
)
from ecrf.domain.errors import DomainError
from ecrf.domain.protocol_spec import resolve_protocol

SHIPPED = Path(__file__).resolve().parents[2] / "trials" / "protocols" / "NCT03918265.yaml"
DAY1 = dt.date(2023, 3, 1)
DECLARED = [
    {"code": "AIHA", "name": "Autoimmune haemolytic anaemia", "description": ""},
    {"code": "PRCA", "name": "Pure red cell aplasia", "description": ""},
]


def document() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def shipped_specs() -> dict:
    content = resolve_protocol(document()).versions[0].content
    raw = [
        {"code": e["code"], "name": e["name"], "kind": e["kind"], **e["parameters"]}
        for e in content["endpoints"]
    ]
    return {s.code: s for s in build_endpoint_specs(content["response_criteria"], raw)}


def obs(values: dict[int, int]) -> list[Observation]:
    return [Observation(DAY1 + dt.timedelta(days=d), Decimal(v)) for d, v in values.items()]


def course(diagnosis: str | None, **kwargs) -> PatientCourse:
    return PatientCourse(
        day1=DAY1, as_of=DAY1 + dt.timedelta(days=900), diagnosis=diagnosis, **kwargs
    )


# --- Declaring diagnoses ----------------------------------------------------------------------


def test_the_declared_diagnoses_are_read_in_file_order():
    raw = [{"code": "AIHA", "name": " Autoimmune haemolytic anaemia "}, {"code": "PRCA",
           "name": "Pure red cell aplasia", "description": "Acquired"}]  # fmt: skip
    assert validated_diagnoses(raw, "versions.0.diagnoses") == [
        {"code": "AIHA", "name": "Autoimmune haemolytic anaemia", "description": ""},
        {"code": "PRCA", "name": "Pure red cell aplasia", "description": "Acquired"},
    ]


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"AIHA": "x"}, "d", "must be a list of mappings"),
        ([{"code": "AIHA"}], "d.0.name", "must be a non-empty text"),
        ([{"code": "AIHA", "name": "A", "icd10": "D59.1"}], "d.0.icd10", "unknown key"),
        ([{"code": "1AIHA", "name": "A"}], "d.0.code", "must start with a letter"),
        ([{"code": "A", "name": "A"}, {"code": "A", "name": "B"}], "d.1.code", "duplicate"),
    ],
)
def test_a_bad_diagnosis_list_names_the_key(raw, field, message):
    with pytest.raises(DomainError) as error:
        validated_diagnoses(raw, "d")
    assert error.value.field == field
    assert message in error.value.message


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ([], "e", "must be a non-empty list of diagnosis codes"),
        ("AIHA", "e", "must be a non-empty list of diagnosis codes"),
        (["AIHA", "AIHA"], "e", "lists a diagnosis twice"),
        (["AIHA", "CAD"], "e.1", "unknown diagnosis 'CAD' (AIHA, PRCA)"),
    ],
)
def test_a_bad_restriction_names_the_key(raw, field, message):
    with pytest.raises(DomainError) as error:
        parse_applies_to(raw, "e", ["AIHA", "PRCA"])
    assert (error.value.field, error.value.message) == (field, message)


def test_no_restriction_means_every_patient():
    assert parse_applies_to(None, "e", ["AIHA"]) is None
    assert parse_applies_to(["PRCA", "AIHA"], "e", ["AIHA", "PRCA"]) == {"AIHA", "PRCA"}


@pytest.mark.parametrize(
    ("declared", "code", "problem"),
    [
        (DECLARED, "AIHA", None),
        (DECLARED, "", "Required for this study: one of AIHA, PRCA."),
        (DECLARED, None, "Required for this study: one of AIHA, PRCA."),
        (DECLARED, "aiha", "Unknown diagnosis 'aiha' for this study: one of AIHA, PRCA."),
        ([], "", None),
        ([], "AIHA", "This study records no diagnosis; leave it empty."),
    ],
)
def test_a_patients_diagnosis_must_be_declared_and_is_required_where_declared(
    declared, code, problem
):
    assert diagnosis_problem(declared, code) == problem


def test_a_diagnosis_is_named_as_declared():
    assert diagnosis_name(DECLARED, "PRCA") == "Pure red cell aplasia"
    assert diagnosis_name(DECLARED, "") == ""


def test_the_shipped_file_declares_three_diagnoses_and_restricts_its_response_endpoints():
    content = resolve_protocol(document()).versions[0].content
    restricted = {
        e["code"]: e["parameters"].get("applies_to_diagnoses") for e in content["endpoints"]
    }

    assert [d["code"] for d in content["diagnoses"]] == ["AIHA", "PRCA", "EVANS"]
    assert restricted == {
        "hb_6m": None,
        "plt_6m": None,
        "hb_24m": None,
        "plt_24m": None,
        "hb_response_6m": ["AIHA", "EVANS"],
        "hb_response_24m": ["AIHA", "EVANS"],
        "prca_response_6m": ["PRCA"],
        "prca_response_24m": ["PRCA"],
        "plt_response_6m": ["EVANS"],
        "plt_response_24m": ["EVANS"],
    }


def test_an_endpoint_naming_an_undeclared_diagnosis_is_refused_with_its_path():
    bad = document()
    bad["versions"][0]["endpoints"][8]["applies_to_diagnoses"] = ["EVANS", "CAD"]
    with pytest.raises(DomainError) as error:
        resolve_protocol(bad)
    assert error.value.field == "versions.0.endpoints.8.applies_to_diagnoses.1"
    assert error.value.message == "unknown diagnosis 'CAD' (AIHA, PRCA, EVANS)"


def test_an_amendment_adds_a_diagnosis_and_a_file_without_any_keeps_its_content():
    amended = document()
    amended["versions"].append(
        {
            "number": 2,
            "effective_date": dt.date(2020, 1, 1),
            "summary": "Cold agglutinin disease enrolled too.",
            "changes": {"diagnoses": {"upsert": [{"code": "CAD", "name": "Cold agglutinin"}]}},
        }
    )
    without = document()
    del without["versions"][0]["diagnoses"]
    for endpoint in without["versions"][0]["endpoints"]:
        endpoint.pop("applies_to_diagnoses", None)
    without["versions"][0]["assumptions"] = [
        a
        for a in without["versions"][0]["assumptions"]
        if not a["parameter"].endswith("applies_to_diagnoses")
    ]

    versions = resolve_protocol(amended).versions
    assert [d["code"] for d in versions[1].content["diagnoses"]] == ["AIHA", "PRCA", "EVANS", "CAD"]
    # No `diagnoses` key at all: a file that declares none hashes as it did before diagnoses.
    assert "diagnoses" not in resolve_protocol(without).versions[0].content


def test_the_engine_refuses_an_empty_restriction_with_its_path():
    endpoints = [{"code": "hb", "kind": "value_at_time_point", "test_code": "HGB",
                  "time_point": {"day": 180}, "applies_to_diagnoses": []}]  # fmt: skip
    with pytest.raises(DomainError) as error:
        build_endpoint_specs({}, endpoints, path="versions.0.endpoints")
    assert error.value.field == "versions.0.endpoints.0.applies_to_diagnoses"


# --- Evaluating: not applicable is not "not met" ----------------------------------------------


def test_an_endpoint_of_another_diagnosis_is_not_applicable():
    specs = shipped_specs()
    prca = course("PRCA", haemoglobin=obs({-2: 60, 180: 85}), platelets=obs({-2: 20, 180: 70}))

    result = evaluate_endpoint(specs["hb_response_6m"], prca)
    platelets = evaluate_endpoint(specs["plt_response_6m"], prca)

    assert (result.applicable, result.met, result.value, result.event) == (
        False,
        None,
        None,
        None,
    )
    assert result.detail == "not applicable: applies to AIHA, EVANS; diagnosis PRCA"
    assert (platelets.applicable, platelets.met) == (False, None)
    assert evaluate_endpoint(specs["hb_6m"], prca).value == Decimal(85)  # every patient


def test_a_patient_without_a_recorded_diagnosis_is_not_evaluable_for_restricted_endpoints():
    specs = shipped_specs()
    unrecorded = course("", haemoglobin=obs({-2: 60, 180: 125}))

    result = evaluate_endpoint(specs["hb_response_6m"], unrecorded)

    assert (result.applicable, result.met, result.value) == (True, None, None)
    assert result.detail == "not evaluable: no diagnosis recorded (applies to AIHA, EVANS)"
    assert evaluate_endpoint(specs["hb_6m"], unrecorded).value == Decimal(125)


def test_without_diagnoses_every_endpoint_is_evaluated():
    specs = shipped_specs()
    result = evaluate_endpoint(specs["hb_response_6m"], course(None, haemoglobin=obs({180: 125})))
    assert (result.applicable, result.met, result.value) == (True, True, "CR")


@pytest.mark.parametrize(
    ("hb", "transfused_on", "aiha", "prca"),
    [
        # A transfusion 20 days before the 6-month Hb: outside AIHA's 7 days, inside PRCA's 56.
        ({-2: 62, 180: 90}, 160, (True, "PR"), (False, "NR")),
        ({-2: 62, 180: 90}, None, (True, "PR"), (True, "PR")),  # rise 28: PR both ways
        ({-2: 85, 180: 100}, None, (True, "PR"), (False, "NR")),  # AIHA: Hb >= 100 suffices
        ({-2: 62, 180: 120}, 175, (False, "NR"), (False, "NR")),  # transfused 5 days before
        ({-2: 62, 180: 120}, 123, (True, "CR"), (True, "CR")),  # 57 days: independent
        ({-2: 62, 180: 120}, 124, (True, "CR"), (False, "NR")),  # 56 days: not yet
    ],
)
def test_prca_and_warm_aiha_categories_differ(hb, transfused_on, aiha, prca):
    specs = shipped_specs()
    transfusions = [] if transfused_on is None else [DAY1 + dt.timedelta(days=transfused_on)]

    def verdict(code: str, diagnosis: str):
        result = evaluate_endpoint(
            specs[code], course(diagnosis, haemoglobin=obs(hb), transfusions=transfusions)
        )
        return (result.met, result.value)

    assert verdict("hb_response_6m", "AIHA") == aiha
    assert verdict("prca_response_6m", "PRCA") == prca


@pytest.mark.parametrize(
    ("platelets", "met"),
    [
        ({-2: 20, 180: 40, 188: 45}, True),  # >= 30 and >= 2 x 20, confirmed 8 days later
        ({-2: 20, 180: 40, 187: 45}, False),  # 7 days: not "more than 7 days" apart
        ({-2: 20, 180: 39, 190: 45}, False),  # 39 < 2 x 20
        ({-2: 10, 180: 30, 190: 30}, True),  # the IWG boundaries, met exactly
    ],
)
def test_the_evans_platelet_response_follows_iwg(platelets, met):
    result = evaluate_endpoint(
        shipped_specs()["plt_response_6m"], course("EVANS", platelets=obs(platelets))
    )
    assert (result.applicable, result.met) == (True, met)


@pytest.mark.parametrize(
    ("diagnosis", "applies"),
    [("AIHA", False), ("PRCA", False), ("EVANS", True), ("", True), (None, True)],
)
def test_per_visit_platelet_responses_where_a_platelet_endpoint_applies(diagnosis, applies):
    specs = list(shipped_specs().values())
    assert platelet_responses_apply(specs, course(diagnosis)) is applies


def test_a_study_without_platelet_endpoints_keeps_its_per_visit_responses():
    only_values = [s for s in shipped_specs().values() if s.code in ("hb_6m", "plt_6m")]
    assert platelet_responses_apply(only_values, course("AIHA")) is True
