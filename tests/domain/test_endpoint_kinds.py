"""The registry of endpoint kinds: each kind declared once, and what the parser reads from it."""

from __future__ import annotations

from typing import Any

import pytest

from ecrf.domain.endpoints import (
    KINDS,
    EndpointKind,
    Family,
    ResultType,
    build_endpoint_specs,
    kind_definition,
    kinds_of,
)
from ecrf.domain.errors import DomainError

SIX_MONTHS = {"day": 180, "window_before": 14, "window_after": 14}
IWG: dict[str, Any] = {
    "levels": {
        "CR": {"rank": 1, "platelets": {"op": ">=", "value": 100}},
        "R": {"rank": 2, "platelets": {"op": ">=", "value": 30}},
    },
}
BINARY, PLATELET = ResultType.BINARY, Family.PLATELET
TTE = ("time_to_response", "duration_of_response")
TP = SIX_MONTHS
HB = {"levels": {"HR": {"rank": 3, "hb": {"op": ">=", "value": 100}}}}


def test_every_kind_is_declared_once_with_an_evaluator() -> None:
    assert list(KINDS) == list(EndpointKind)
    assert all(KINDS[kind].kind is kind and callable(KINDS[kind].evaluator) for kind in KINDS)


@pytest.mark.parametrize(
    ("result", "family", "kinds"),
    [
        (BINARY, PLATELET, {"best_response", "response_at_time_point", "sustained_response"}),
        (BINARY, Family.HAEMOGLOBIN, {"haemoglobin_response"}),
        (ResultType.TIME_TO_EVENT, None, {"time_to_response", "duration_of_response"}),
        (ResultType.CONTINUOUS, None, {"peak_value", "value_at_time_point", "score_change"}),
        (None, PLATELET, {"best_response", "response_at_time_point", "sustained_response", *TTE}),
    ],
)  # fmt: skip
def test_kinds_by_result_type_and_family(result, family, kinds) -> None:
    assert kinds_of(result=result, family=family) == {EndpointKind(kind) for kind in kinds}


@pytest.mark.parametrize(
    ("kind", "needs_time_point", "exact_match", "counts_improvement"),
    [
        ("best_response", True, True, False),
        ("response_at_time_point", True, True, False),
        ("sustained_response", False, False, False),
        ("time_to_response", False, False, False),
        ("duration_of_response", False, False, False),
        ("peak_value", False, True, False),
        ("value_at_time_point", True, True, False),
        ("haemoglobin_response", True, True, False),
        ("score_change", True, True, True),
    ],
)
def test_what_each_kind_declares(kind, needs_time_point, exact_match, counts_improvement) -> None:
    definition = kind_definition(kind)
    assert definition.needs_time_point is needs_time_point
    assert definition.exact_match is exact_match
    assert definition.counts_improvement is counts_improvement


@pytest.mark.parametrize("kind", ["overall_survival", "", None, 3, "Best_Response"])
def test_an_unknown_kind_is_an_error_naming_the_key(kind) -> None:
    with pytest.raises(DomainError) as error:
        kind_definition(kind, "endpoint_definitions.os.kind")
    assert error.value.field == "endpoint_definitions.os.kind"
    assert error.value.message == (
        "must be one of best_response, response_at_time_point, sustained_response, "
        "time_to_response, duration_of_response, peak_value, value_at_time_point, "
        f"haemoglobin_response, score_change, not {kind!r}"
    )


# What each kind needs to parse, so that a row names only the stray key.
VALID = {
    "peak_value": {"test_code": "PLAT"},
    "value_at_time_point": {"test_code": "HGB", "time_point": TP},
    "score_change": {"score": "ESSDAI", "time_point": TP},
    "best_response": {"time_point": TP},
    "time_to_response": {},
    "haemoglobin_response": {"time_point": TP, "criteria": HB},
}


@pytest.mark.parametrize(
    ("kind", "stray"),
    [
        ("peak_value", {"level": "R"}),
        ("peak_value", {"criteria": {"bleeding": None}}),
        ("value_at_time_point", {"match": "exactly"}),
        ("score_change", {"test_code": "PLAT"}),
        ("best_response", {"duration_days": 30}),
        ("time_to_response", {"transfusion_free_days": 28}),
        ("haemoglobin_response", {"mcii": {"absolute_drop": 1}}),
    ],
)
def test_a_key_the_kind_does_not_read_is_refused(kind: str, stray: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as error:
        build_endpoint_specs(IWG, [{"code": "e", "kind": kind, **VALID[kind], **stray}])
    [key] = stray
    assert error.value.field == f"endpoints.0.{key}"
    allowed = ", ".join(KINDS[EndpointKind(kind)].keys)
    assert error.value.message == f"not used by kind {kind} (its keys: {allowed})"


def test_a_key_set_to_null_is_absent_whatever_the_kind() -> None:
    (spec,) = build_endpoint_specs(
        IWG, [{"code": "peak", "kind": "peak_value", "test_code": "PLAT", "level": None}]
    )
    assert (spec.kind, spec.test_code, spec.level) == (EndpointKind.PEAK_VALUE, "PLAT", None)


@pytest.mark.parametrize(
    ("endpoint", "key"),
    [
        ({"kind": "best_response"}, "time_point"),
        ({"kind": "sustained_response"}, "duration_days"),
        ({"kind": "value_at_time_point", "time_point": SIX_MONTHS}, "test_code"),
        ({"kind": "score_change", "time_point": SIX_MONTHS}, "score"),
    ],
)
def test_a_key_the_kind_needs_is_demanded(endpoint: dict[str, Any], key: str) -> None:
    with pytest.raises(DomainError) as error:
        build_endpoint_specs(IWG, [{"code": "e", **endpoint}])
    assert (error.value.field, error.value.message) == (
        f"endpoints.0.{key}",
        f"required for kind {endpoint['kind']}",
    )


def test_a_family_reads_its_own_lab_series() -> None:
    assert (Family.PLATELET.series, Family.HAEMOGLOBIN.series) == ("PLAT", "HGB")
