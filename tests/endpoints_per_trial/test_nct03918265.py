"""Per-trial endpoint tests: NCT03918265: Hb and platelets at 6 months and 2 years."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.endpoints_per_trial.support import (
    AIC,
    Number,
    course,
    evaluate,
    outcome,
)

pytestmark = pytest.mark.django_db


# --- NCT03918265: Hb and platelets at 6 months and 2 years ---------------------------------------


@pytest.mark.parametrize(
    ("code", "hb", "platelets", "as_of", "value"),
    [
        pytest.param("hb_6m", [(160, 95), (170, 100), (185, 105), (200, 110)], [], 400, "105", id="hb_6m-nearest"),
        pytest.param("hb_6m", [(175, 100), (185, 105)], [], 400, "100", id="hb_6m-tie-takes-earlier"),
        pytest.param("hb_6m", [(166, "92.5")], [], 400, "92.5", id="hb_6m-window-start"),
        pytest.param("hb_6m", [(165, 92), (195, 93)], [], 400, None, id="hb_6m-none-in-window"),
        pytest.param("hb_6m", [(170, 100)], [], 175, None, id="hb_6m-nearer-may-follow"),
        pytest.param("hb_6m", [(170, 100)], [], 194, "100", id="hb_6m-window-closed"),
        pytest.param("plt_6m", [], [(180, 45), (181, 50)], 400, "45", id="plt_6m-on-target"),
        pytest.param("plt_6m", [(180, 120)], [(194, 80)], 400, "80", id="plt_6m-window-end"),
        pytest.param("hb_24m", [(690, 90), (720, 118), (745, 121)], [], 900, "118", id="hb_24m-nearest"),
        pytest.param("hb_24m", [(700, 95)], [], 900, "95", id="hb_24m-window-start"),
        pytest.param("hb_24m", [(699, 95), (761, 96)], [], 900, None, id="hb_24m-none-in-window"),
        pytest.param("plt_24m", [], [(760, 150)], 900, "150", id="plt_24m-window-end"),
        pytest.param("plt_24m", [], [(180, 60), (761, 150)], 900, None, id="plt_24m-none-in-window"),
    ],
)  # fmt: skip
def test_nct03918265_values_at_time_points(
    code: str,
    hb: list[tuple[int, Number]],
    platelets: list[tuple[int, Number]],
    as_of: int,
    value: str | None,
) -> None:
    patient = course(platelets, baseline=None, hb=hb, as_of=as_of)
    expected = None if value is None else Decimal(value)
    assert outcome(evaluate(AIC, code, patient)) == (None, expected, None)


@pytest.mark.parametrize(
    ("code", "hb", "as_of", "detail"),
    [
        pytest.param("hb_6m", [(160, 95), (170, 100), (185, 105), (200, 110)], 400, "HGB 105 on 2025-07-05 (nearest to 2025-06-30 in window 2025-06-16 to 2025-07-14)", id="nearest"),
        pytest.param("hb_6m", [(165, 92)], 400, "no assessment in window 2025-06-16 to 2025-07-14: no value", id="missing"),
        pytest.param(
            "hb_6m",
            [(170, 100)],
            175,
            "window 2025-06-16 to 2025-07-14 still open as of 2025-06-25: an assessment nearer "
            "2025-06-30 may follow",
            id="open",
        ),
    ],
)  # fmt: skip
def test_nct03918265_value_detail(
    code: str, hb: list[tuple[int, Number]], as_of: int, detail: str
) -> None:
    patient = course(baseline=None, hb=hb, as_of=as_of)
    assert evaluate(AIC, code, patient).detail == detail


@pytest.mark.parametrize(
    ("hb", "transfusions", "met", "response"),
    [
        pytest.param([(0, 80), (180, 120)], [], True, "CR", id="exactly-120"),
        pytest.param([(0, 80), (180, "119.9")], [], True, "PR", id="119.9-is-PR"),
        pytest.param([(0, 95), (180, 100)], [], True, "PR", id="exactly-100-rise-5"),
        pytest.param([(0, 80), (180, "99.9")], [], False, "NR", id="99.9-rise-19.9"),
        pytest.param([(0, 79), (180, 99)], [], True, "PR", id="99-rise-exactly-20"),
        pytest.param([(0, 79), (180, "98.9")], [], False, "NR", id="98.9-rise-19.9"),
        pytest.param([(-30, 79), (180, 99)], [], True, "PR", id="baseline-30-days-before"),
        pytest.param([(-31, 79), (180, 99)], [], False, "NR", id="baseline-too-old-no-rise-route"),
        pytest.param([(-10, 60), (-1, 79), (180, 99)], [], True, "PR", id="latest-baseline-used"),
        pytest.param([(0, 80), (180, 130)], [173], False, "NR", id="transfusion-7-days-before"),
        pytest.param([(0, 80), (180, 130)], [172], True, "CR", id="transfusion-8-days-before"),
        pytest.param([(0, 80), (180, 130)], [180], False, "NR", id="transfusion-same-day"),
        pytest.param([(0, 80), (180, 130)], [181], True, "CR", id="transfusion-day-after"),
        pytest.param([(0, 60), (180, 85)], [175], False, "NR", id="rise-route-transfused"),
        pytest.param([(0, 80), (170, 125), (185, 95)], [], False, "NR", id="nearest-value-decides"),
        pytest.param([(0, 80), (150, 125)], [], False, "NR", id="missing-in-window"),
    ],
)
def test_nct03918265_haemoglobin_response(
    hb: list[tuple[int, Number]], transfusions: list[int], met: bool, response: str
) -> None:
    patient = course(baseline=None, hb=hb, transfusions=transfusions)
    assert outcome(evaluate(AIC, "hb_response_6m", patient)) == (met, response, None)


@pytest.mark.parametrize(
    ("hb", "transfusions", "detail"),
    [
        pytest.param(
            [(0, 79), (180, 99)],
            [],
            "PR: Hb 99 on 2025-06-30 ≥ 100 or rise 20 ≥ 20 from baseline 79; "
            "no transfusion in prior 7 days",
            id="rise-route",
        ),
        pytest.param(
            [(0, 80), (180, "99.9")],
            [],
            "NR: Hb 99.9 on 2025-06-30 meets no level (PR needs ≥ 100 or rise 19.9 ≥ 20 from "
            "baseline 80); no transfusion in prior 7 days",
            id="no-level",
        ),
        pytest.param(
            [(0, 80), (180, 130)],
            [173],
            "NR: Hb 130 on 2025-06-30 ≥ 120 (CR by value); transfusion on 2025-06-23 within "
            "prior 7 days",
            id="transfused",
        ),
    ],
)
def test_nct03918265_haemoglobin_response_detail(
    hb: list[tuple[int, Number]], transfusions: list[int], detail: str
) -> None:
    patient = course(baseline=None, hb=hb, transfusions=transfusions)
    assert evaluate(AIC, "hb_response_6m", patient).detail == detail


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("hb_6m", (None, None, None), id="hb_6m-no-value"),
        pytest.param("plt_24m", (None, None, None), id="plt_24m-no-value"),
        pytest.param("hb_response_6m", (False, "NR", None), id="hb_response-non-responder"),
    ],
)
def test_nct03918265_withdrawal(code: str, expected: tuple[Any, Any, Any]) -> None:
    patient = course(
        [(180, 150), (730, 150)], hb=[(0, 80), (180, 125), (730, 125)], withdrawn=100, as_of=900
    )
    assert outcome(evaluate(AIC, code, patient)) == expected
