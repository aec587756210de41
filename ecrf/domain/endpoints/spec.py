"""Endpoint kinds and the parsed protocol definitions: criteria, levels, rules, endpoint specs."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ecrf.domain.endpoints.formatting import _fmt

NON_RESPONSE = "NR"


class EndpointKind(StrEnum):
    BEST_RESPONSE = "best_response"
    RESPONSE_AT_TIME_POINT = "response_at_time_point"
    SUSTAINED_RESPONSE = "sustained_response"
    TIME_TO_RESPONSE = "time_to_response"
    DURATION_OF_RESPONSE = "duration_of_response"
    PEAK_VALUE = "peak_value"
    VALUE_AT_TIME_POINT = "value_at_time_point"
    HAEMOGLOBIN_RESPONSE = "haemoglobin_response"
    SCORE_CHANGE = "score_change"


class LevelMatch(StrEnum):
    AT_LEAST = "at_least"  # the level or any better one
    EXACTLY = "exactly"  # that level only (e.g. PR 50–100 excluding CR)


class ConfirmedBy(StrEnum):
    """Where the confirmation of the response covering a time-point count may lie."""

    WINDOW_END = "window_end"  # any later count up to the window end
    ASSESSMENT = "assessment"  # on or before the assessed count: an ongoing response


SERIES_TESTS = ("PLAT", "HGB")


SCORES = ("ESSDAI", "ESSPRI")


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


_SYMBOLS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


_CRITERIA_KEYS = (
    "baseline",
    "levels",
    "bleeding",
    "rescue",
    "confirmation",
    "loss",
    "transfusion_free_days",
)


_LEVEL_KEYS = (
    "rank",
    "platelets",
    "platelets_max",
    "fold_of_baseline",
    "hb",
    "hb_max",
    "rise_from_baseline",
    "combine",
)


@dataclass(frozen=True)
class Threshold:
    op: str  # one of <, <=, >, >=
    value: Decimal

    def holds(self, measured: Decimal, bound: Decimal | None = None) -> bool:
        return _OPERATORS[self.op](measured, self.value if bound is None else bound)

    def describe(self) -> str:
        return f"{_SYMBOLS[self.op]} {_fmt(self.value)}"


@dataclass(frozen=True)
class ResponseLevel:
    code: str
    rank: int  # 1 is the best level; levels are ordered by rank, never by key order
    platelets: Threshold | None = None
    platelets_max: Threshold | None = None
    fold_of_baseline: Threshold | None = None  # value is the multiple of the baseline count
    hb: Threshold | None = None
    hb_max: Threshold | None = None
    rise_from_baseline: Threshold | None = None
    combine: str = "all"

    @property
    def is_platelet_level(self) -> bool:
        return any((self.platelets, self.platelets_max, self.fold_of_baseline))

    @property
    def is_haemoglobin_level(self) -> bool:
        return any((self.hb, self.hb_max, self.rise_from_baseline))


@dataclass(frozen=True)
class BaselineRule:
    test_code: str
    window_days: int | None  # None: no limit on how old the baseline value may be


@dataclass(frozen=True)
class BleedingRule:
    min_who_grade: int
    window_days: int


@dataclass(frozen=True)
class RescueRule:
    lookback_days: int | None
    itp_directed_only: bool
    since_start: bool


@dataclass(frozen=True)
class ConfirmationRule:
    min_days: int
    inclusive: bool  # True: second count at least min_days later; False: more than min_days


@dataclass(frozen=True)
class LossRule:
    confirmations: int
    min_days: int
    inclusive: bool
    bleeding: bool = True


# A response without a loss rule ends at its first non-qualifying count.
SINGLE_COUNT_LOSS = LossRule(confirmations=1, min_days=0, inclusive=True)


@dataclass(frozen=True)
class ResponseCriteria:
    baseline: BaselineRule | None
    levels: tuple[ResponseLevel, ...]  # best first
    bleeding: BleedingRule | None
    rescue: RescueRule | None
    confirmation: ConfirmationRule | None  # None: a single qualifying count is a response
    loss: LossRule | None
    transfusion_free_days: int | None = None

    @property
    def platelet_levels(self) -> tuple[ResponseLevel, ...]:
        return tuple(level for level in self.levels if level.is_platelet_level)

    @property
    def haemoglobin_levels(self) -> tuple[ResponseLevel, ...]:
        return tuple(level for level in self.levels if level.is_haemoglobin_level)


@dataclass(frozen=True)
class TimePoint:
    day: int
    window_before: int = 0
    window_after: int = 0


@dataclass(frozen=True)
class MciiRule:
    absolute_drop: Decimal | None
    relative_drop: Decimal | None  # fraction of baseline

    def describe(self) -> str:
        parts = []
        if self.absolute_drop is not None:
            parts.append(f"fall ≥ {_fmt(self.absolute_drop)}")
        if self.relative_drop is not None:
            parts.append(f"fall ≥ {_fmt(self.relative_drop * 100)}%")
        return " or ".join(parts)


@dataclass(frozen=True)
class AfterResponse:
    """A sustained run starts at the first count of a confirmed response at `level` or better,
    judged with the protocol's own response criteria."""

    level: str
    criteria: ResponseCriteria


@dataclass(frozen=True)
class EndpointSpec:
    code: str
    name: str
    kind: EndpointKind
    criteria: ResponseCriteria
    level: str | None = None
    match: LevelMatch = LevelMatch.AT_LEAST
    time_point: TimePoint | None = None
    primary: bool = False
    duration_days: int | None = None
    test_code: str | None = None
    score: str | None = None
    mcii: MciiRule | None = None
    after_response: AfterResponse | None = None
    confirmed_by: ConfirmedBy = ConfirmedBy.WINDOW_END
    # None: every patient; else the diagnosis codes it applies to (ecrf.domain.diagnoses).
    applies_to_diagnoses: frozenset[str] | None = None
