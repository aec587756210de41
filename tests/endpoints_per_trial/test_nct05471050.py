"""Per-trial endpoint tests of NCT05471050: the peak platelet count within 6 months; the amendment
(one course, two versions)."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

from decimal import Decimal

import pytest

from ecrf.domain.endpoints import (
    RescueEpisode,
    evaluate_endpoints,
)
from tests.endpoints_per_trial.support import (
    SR6M,
    TAC_DAN,
    Number,
    course,
    endpoint_specs,
    evaluate,
    outcome,
    pair,
    rescue,
)

pytestmark = pytest.mark.django_db


# --- NCT05471050: peak platelet count within 6 months --------------------------------------------


@pytest.mark.parametrize(
    ("counts", "value", "detail"),
    [
        pytest.param([(14, 60), (100, 90), (150, 90), (194, 95), (195, 200)], 95, "peak PLAT 95 on 2025-07-14 (highest of 4 values from 2025-01-15 to 2025-07-14)", id="horizon-is-window-end"),
        pytest.param([(14, 60), (100, 90), (150, 90)], 90, "peak PLAT 90 on 2025-04-11 (highest of 3 values from 2025-01-15 to 2025-05-31)", id="earliest-of-ties"),
    ],
)  # fmt: skip
def test_nct05471050_peak_platelet_count(
    counts: list[tuple[int, Number]], value: int, detail: str
) -> None:
    result = evaluate(TAC_DAN, "peak_platelet_count", course(counts, baseline=300))
    assert outcome(result) == (None, value, None)
    assert result.detail == detail


# --- NCT05471050 amendment: one course, two versions ---------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "counts", "bleeding", "rescues", "version_1", "version_2"),
    [
        pytest.param(40, pair(172, 180, 55), [], [], False, True, id="PLT-55-baseline-40-not-2x"),
        pytest.param(10, pair(172, 180, 45), [], [], True, False, id="PLT-45-baseline-10-not->50"),
        pytest.param(10, pair(172, 180, 50), [], [], True, False, id="PLT-exactly-50"),
        pytest.param(10, pair(172, 180, 51), [], [], True, True, id="PLT-51-both"),
        pytest.param(30, pair(172, 180, 55), [], [], False, True, id="PLT-55-baseline-30"),
        pytest.param(10, [(180, 60)], [], [], False, True, id="single-count-unconfirmed-in-v1"),
        pytest.param(10, pair(180, 188, 60), [], [], False, True, id="first-response-at-month-6"),
        pytest.param(10, pair(172, 180, 60), [(180, 2)], [], False, True, id="bleeding-on-count-day"),
        pytest.param(10, pair(172, 180, 60), [], [rescue(10, 20)], True, False, id="rescue-days-10-to-20"),
        pytest.param(10, pair(172, 180, 60), [], [rescue(140, 152)], False, False, id="rescue-in-look-back"),
        pytest.param(10, pair(172, 180, 29), [], [], False, False, id="PLT-29-neither"),
    ],
)  # fmt: skip
def test_amendment_changes_the_primary_endpoint_result(
    baseline: int,
    counts: list[tuple[int, Number]],
    bleeding: list[tuple[int, int]],
    rescues: list[RescueEpisode],
    version_1: bool,
    version_2: bool,
) -> None:
    patient = course(counts, baseline=baseline, bleeding=bleeding, rescue=rescues)
    results = [evaluate(TAC_DAN, SR6M, patient, version) for version in (1, 2)]
    assert [outcome(result) for result in results] == [
        (version_1, None, None),
        (version_2, None, None),
    ]


def test_amendment_leaves_the_other_endpoints_results_unchanged() -> None:
    patient = course(
        [
            (14, 60),
            (22, 60),
            (42, 20),
            (44, 20),
            (90, 100),
            (98, 100),
            (150, 20),
            (152, 20),
            (180, 55),
        ]
    )
    version_1 = evaluate_endpoints(list(endpoint_specs(TAC_DAN, 1).values()), patient)
    version_2 = evaluate_endpoints(list(endpoint_specs(TAC_DAN, 2).values()), patient)
    assert {code: outcome(result) for code, result in version_1.items()} == {
        SR6M: (False, None, None),
        "complete_response": (True, None, None),
        "response": (True, None, None),
        "time_to_response": (None, 14, True),
        "duration_of_response": (None, 28, True),
        "peak_platelet_count": (None, Decimal(100), None),
    }
    assert {code: outcome(result) for code, result in version_2.items()} == {
        **{code: outcome(result) for code, result in version_1.items()},
        SR6M: (True, None, None),
    }
