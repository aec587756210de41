"""Per-trial endpoint tests: What the files define."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

import pytest

from tests.endpoints_per_trial.support import (
    AIC,
    CR1Y,
    OR1Y,
    RTX_ATRA,
    SJOGREN,
    SR6M,
    TAC_DAN,
    W4,
    endpoint_specs,
)

pytestmark = pytest.mark.django_db


# --- What the files define -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry_id", "version", "codes", "primary"),
    [
        pytest.param(TAC_DAN, 1, [SR6M, "complete_response", "response", "time_to_response", "duration_of_response", "peak_platelet_count"], [SR6M], id="NCT05471050-v1"),
        pytest.param(TAC_DAN, 2, [SR6M, "complete_response", "response", "time_to_response", "duration_of_response", "peak_platelet_count"], [SR6M], id="NCT05471050-v2"),
        pytest.param(RTX_ATRA, 1, [OR1Y, "sustained_response", CR1Y, "time_to_response", "duration_of_response", W4], [OR1Y], id="NCT03304288"),
        pytest.param(AIC, 1, ["hb_6m", "plt_6m", "hb_24m", "plt_24m", "hb_response_6m", "hb_response_24m", "prca_response_6m", "prca_response_24m", "plt_response_6m", "plt_response_24m"], ["hb_6m", "plt_6m"], id="NCT03918265"),
        pytest.param(SJOGREN, 1, ["cr_w12", "cr_w4", "cr_w8", "pr_w4", "pr_w8", "pr_w12", "essdai_change_w12", "esspri_change_w12"], ["cr_w12"], id="NCT05694130"),
    ],
)  # fmt: skip
def test_shipped_endpoints(
    registry_id: str, version: int, codes: list[str], primary: list[str]
) -> None:
    specs = endpoint_specs(registry_id, version)
    assert list(specs) == codes
    assert [code for code, spec in specs.items() if spec.primary] == primary


def test_amendment_2_restates_only_the_primary_endpoint() -> None:
    version_1 = endpoint_specs(TAC_DAN, 1)
    version_2 = endpoint_specs(TAC_DAN, 2)
    unchanged = [code for code in version_1 if version_1[code] == version_2[code]]
    assert unchanged == [
        "complete_response",
        "response",
        "time_to_response",
        "duration_of_response",
        "peak_platelet_count",
    ]
    primary = version_2[SR6M].criteria
    assert [level.code for level in primary.platelet_levels] == ["R"]
    assert (primary.bleeding, primary.confirmation) == (None, None)
    assert primary.rescue is not None and primary.rescue.since_start
