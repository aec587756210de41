"""Endpoint engine: parses a protocol's endpoint definitions, evaluates them on a patient's course.

Input format: the protocol-file endpoint part described in ``docs/domain-contracts.md`` —
``response_criteria`` (defaults) plus ``endpoints`` (list), each endpoint's ``criteria`` deep-merged
over the defaults (an explicit ``null`` removes a rule or a level).

Response levels are ranked by their explicit ``rank`` (1 = best), never by the order of the keys
of ``levels``: the design is stored as PostgreSQL ``jsonb``, which does not keep key order. Every
level of a merged criteria block needs a rank (an override level merged onto a protocol level
inherits its rank), and no two levels of one family (platelet, haemoglobin) share one.

Extensions of the contract (all optional; a file written to the contract alone parses unchanged):

- Level keys ``hb``, ``hb_max`` and ``rise_from_baseline`` (``{op, value}``, g/L) make a
  haemoglobin level; ``platelets``, ``platelets_max`` and ``fold_of_baseline`` make a platelet
  level. A level may not mix the two (null out the keys that do not apply). Platelet endpoints use
  the platelet levels, ``haemoglobin_response`` the haemoglobin levels.
- ``combine: all | any`` on a level: whether all of its rules must hold (default, the IWG reading of
  "≥ 30 and ≥ 2× baseline") or any one (e.g. AIHA PR "Hb ≥ 100 or a rise ≥ 20").
- ``fold_of_baseline`` is a number (count ≥ fold × baseline) or ``{op, value}`` for a strict fold.
- ``loss.bleeding`` (default true): whether qualifying bleeding after a confirmed response is a
  loss.
  ``loss: null`` means a single non-qualifying count (or bleeding) ends a response.
- ``transfusion_free_days`` may sit on the endpoint or in its ``criteria``.
- ``mcii: {absolute_drop, relative_drop}``: ``relative_drop`` is a fraction (0.15 = 15 %).
- Endpoint keys ``description`` and ``notes`` are accepted and ignored (documentation only).
- ``after_response: {level}`` (sustained_response only): the run must start at the first count of
  a confirmed response at ``level`` or better under the protocol's own ``response_criteria`` (its
  levels, baseline, bleeding, rescue, confirmation and loss rules; the endpoint's ``criteria``
  overrides do not apply to it). From that count on, every count of the following
  ``duration_days`` must meet the endpoint's ``criteria``. Each confirmed response episode (a
  regain after a loss included) may start the run; a run that starts anywhere else does not count.
  Without ``after_response`` any qualifying count may start the run.
- ``confirmed_by: window_end | assessment`` (response_at_time_point only; default ``window_end``):
  with ``window_end`` the assessed count may be confirmed by any later count up to the window end;
  with ``assessment`` it must belong to a response already confirmed on or before the assessed
  count itself and not lost by then (an ongoing response), so counts after it cannot change the
  result. Without a confirmation rule the count alone decides either way.

Conventions:

- Days are counted from day 1: ``time_point.day: 180`` targets the date ``day1 + 180 days``; the
  window is [target − window_before, target + window_after], both ends included; time to response
  is ``(response date − day1).days``.
- Baseline: ``course.baseline_platelets`` when given, else the latest count on or before day 1 and
  at most ``baseline.window_days`` before it. Response assessments are the counts after day 1.
- A rescue episode counts against a count when it is active on any day of
  [count − lookback_days, count] (both ends included), or of [day 1, count] with ``since_start``.
  Bleeding of at least ``min_who_grade`` dated within [count − window_days, count] makes the count
  NR; bleeding between a first count and its confirmation breaks the confirmation.
- The evidence of an endpoint with a time point is bounded by its window: a response "by day 180
  (+14)" must be confirmed by day 194; a count at a time point must be confirmed within the window
  (or on or before that count, with ``confirmed_by: assessment``).
- A binary result is ``None`` while it cannot be decided at ``as_of`` (window still open), ``False``
  once the window closed without the evidence (a missing assessment counts as non-response).
- Withdrawal: data after ``as_of`` or after ``withdrawn_on`` are ignored, and a withdrawal closes
  every window (no later data can arrive). An assessment dated inside the window on or before the
  withdrawal date is used as usual (the nearest to the target among them); only when no usable
  assessment exists is the endpoint False (non-responder), its value None (continuous kinds) or
  its time to event censored. A withdrawal dated after ``as_of`` is not yet known at that cut.
- Time-to-event endpoints have ``met = None`` and report ``value`` (days) with ``event``.
- sustained_response: a run of consecutive qualifying counts, with no qualifying bleeding or rescue
  between them, whose first and last counts are ≥ ``duration_days`` apart, ending by the horizon
  (with ``after_response``, starting at the first count of a confirmed response); ``value`` is that
  span in days. ``match: exactly`` is allowed only for best_response,
  response_at_time_point and haemoglobin_response (the others work at "a level or better").
- ``value``: days for time-to-event kinds and sustained_response, the measured value (Decimal) for
  peak_value / value_at_time_point / score_change (change = follow-up − baseline), the level code
  for haemoglobin_response; ``None`` otherwise.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, NamedTuple

from ecrf.domain.errors import DomainError
from ecrf.domain.scores import is_clinically_important_improvement

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


PLATELET_KINDS = frozenset(
    {
        EndpointKind.BEST_RESPONSE,
        EndpointKind.RESPONSE_AT_TIME_POINT,
        EndpointKind.SUSTAINED_RESPONSE,
        EndpointKind.TIME_TO_RESPONSE,
        EndpointKind.DURATION_OF_RESPONSE,
    }
)
TIME_POINT_REQUIRED = frozenset(
    {
        EndpointKind.BEST_RESPONSE,
        EndpointKind.RESPONSE_AT_TIME_POINT,
        EndpointKind.VALUE_AT_TIME_POINT,
        EndpointKind.HAEMOGLOBIN_RESPONSE,
        EndpointKind.SCORE_CHANGE,
    }
)
# Runs and episodes are "at a level or better"; an exact level has no meaning for these kinds.
EXACT_MATCH_UNSUPPORTED = frozenset(
    {
        EndpointKind.SUSTAINED_RESPONSE,
        EndpointKind.TIME_TO_RESPONSE,
        EndpointKind.DURATION_OF_RESPONSE,
    }
)
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
_ENDPOINT_KEYS = (
    "code",
    "name",
    "kind",
    "level",
    "match",
    "time_point",
    "primary",
    "criteria",
    "duration_days",
    "test_code",
    "score",
    "mcii",
    "transfusion_free_days",
    "after_response",
    "confirmed_by",
    "description",
    "notes",
)


# --- Parsed protocol definitions -------------------------------------------------------------


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


# --- Patient course (input) and results (output) ---------------------------------------------


@dataclass(frozen=True)
class Observation:
    date: dt.date
    value: Decimal


@dataclass(frozen=True)
class BleedingObservation:
    date: dt.date
    who_grade: int


@dataclass(frozen=True)
class RescueEpisode:
    start: dt.date
    stop: dt.date | None  # None: ongoing
    itp_directed: bool
    therapy: str


@dataclass(frozen=True, kw_only=True)
class PatientCourse:
    day1: dt.date
    as_of: dt.date
    platelets: list[Observation] = field(default_factory=list)  # 10^9/L
    haemoglobin: list[Observation] = field(default_factory=list)  # g/L
    bleeding: list[BleedingObservation] = field(default_factory=list)
    rescue: list[RescueEpisode] = field(default_factory=list)
    transfusions: list[dt.date] = field(default_factory=list)
    scores: dict[str, list[Observation]] = field(default_factory=dict)  # ESSDAI, ESSPRI
    baseline_platelets: Decimal | None = None
    withdrawn_on: dt.date | None = None


@dataclass(frozen=True)
class VisitResponse:
    date: dt.date
    platelet_count: Decimal
    response: str  # level code or "NR"
    bleeding: bool
    rescue: bool
    qualifying: bool
    detail: str


@dataclass(frozen=True)
class EndpointResult:
    code: str
    kind: EndpointKind
    met: bool | None
    value: Decimal | int | str | None
    event: bool | None
    detail: str


@dataclass(frozen=True)
class ResponseEpisode:
    """A confirmed response at a level or better, from its first qualifying count to its loss."""

    level: str
    first: VisitResponse
    confirmed_by: VisitResponse | None  # None when confirmation is not required
    lost_on: dt.date | None
    loss_detail: str | None

    @property
    def start(self) -> dt.date:
        return self.first.date


class EpisodeSearch(NamedTuple):
    episodes: list[ResponseEpisode]
    pending: VisitResponse | None  # first count of an unbroken run still awaiting confirmation


# --- Parsing ---------------------------------------------------------------------------------


def build_endpoint_specs(
    response_criteria: Mapping[str, Any] | None,
    endpoints: Sequence[Mapping[str, Any]],
    *,
    path: str = "endpoints",
    criteria_path: str | None = None,
) -> list[EndpointSpec]:
    """Parse and validate a protocol version's endpoints; errors name the dotted key at fault.

    `criteria_path` names the protocol's response_criteria in errors; by default it is the sibling
    of `path` (``versions.2.endpoints`` → ``versions.2.response_criteria``).
    """
    if criteria_path is None:
        prefix, _, _ = path.rpartition(".")
        criteria_path = _join(prefix, "response_criteria") if prefix else "response_criteria"
    defaults = {} if response_criteria is None else _mapping(response_criteria, criteria_path)
    parse_response_criteria(defaults, path=criteria_path)  # report the defaults' own errors first
    if isinstance(endpoints, str | bytes) or not isinstance(endpoints, Sequence):
        raise DomainError(path, "must be a list of endpoints")
    specs: list[EndpointSpec] = []
    for index, raw in enumerate(endpoints):
        spec = _parse_endpoint(defaults, raw, f"{path}.{index}", criteria_path)
        if any(existing.code == spec.code for existing in specs):
            raise DomainError(f"{path}.{index}.code", f"duplicate endpoint code {spec.code!r}")
        specs.append(spec)
    return specs


def parse_response_criteria(
    criteria: Mapping[str, Any], *, path: str = "response_criteria"
) -> ResponseCriteria:
    """Parse one (already merged) criteria block."""
    return _parse_criteria(_mapping(criteria, path), _KeyPaths(path))


def merge_criteria(defaults: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge, key by key; an explicit None in the override removes the key."""
    merged = dict(defaults)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_criteria(merged[key], value)
        else:
            merged[key] = value
    return merged


class _KeyPaths:
    """Names a key of a merged criteria block by where it came from: the endpoint's override when
    the override supplies it, else the protocol's response_criteria."""

    def __init__(
        self,
        base_path: str,
        override_path: str | None = None,
        override: Mapping[str, Any] | None = None,
    ) -> None:
        self.base_path = base_path
        self.override_path = override_path
        self.override = override or {}

    def __call__(self, *keys: object) -> str:
        if self.override_path is not None and _supplies(self.override, keys):
            return _join(self.override_path, *keys)
        return _join(self.base_path, *keys)


def _supplies(override: Mapping[str, Any], keys: Sequence[object]) -> bool:
    node: Any = override
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
        if not isinstance(node, Mapping):
            return True  # the override replaced this whole subtree
    return True


def _parse_endpoint(
    defaults: Mapping[str, Any], raw: object, where: str, criteria_path: str
) -> EndpointSpec:
    endpoint = _mapping(raw, where)
    _reject_unknown_keys(endpoint, _ENDPOINT_KEYS, lambda key: f"{where}.{key}")
    code = _text(endpoint.get("code"), f"{where}.code")
    kind = _choice(endpoint.get("kind"), f"{where}.kind", EndpointKind)
    raw_criteria = endpoint.get("criteria")
    override = {} if raw_criteria is None else _mapping(raw_criteria, f"{where}.criteria")
    if endpoint.get("transfusion_free_days") is not None:
        override = {**override, "transfusion_free_days": endpoint["transfusion_free_days"]}
    _reject_unknown_override_keys(override, f"{where}.criteria")
    key_paths = _KeyPaths(criteria_path, f"{where}.criteria", override)
    criteria = _parse_criteria(merge_criteria(defaults, override), key_paths)
    time_point = _optional(endpoint, "time_point", where, _parse_time_point)
    if time_point is None and kind in TIME_POINT_REQUIRED:
        raise DomainError(f"{where}.time_point", f"required for kind {kind.value}")
    spec = EndpointSpec(
        code=code,
        name=_text(endpoint.get("name", code), f"{where}.name"),
        kind=kind,
        criteria=criteria,
        level=_optional(endpoint, "level", where, _text),
        match=_choice(
            endpoint.get("match", LevelMatch.AT_LEAST.value), f"{where}.match", LevelMatch
        ),
        time_point=time_point,
        primary=_bool(endpoint.get("primary", False), f"{where}.primary"),
        duration_days=_optional(endpoint, "duration_days", where, _positive_int),
        test_code=_optional(endpoint, "test_code", where, _series_test),
        score=_optional(endpoint, "score", where, _score_name),
        mcii=_optional(endpoint, "mcii", where, _parse_mcii),
        confirmed_by=_choice(
            endpoint.get("confirmed_by", ConfirmedBy.WINDOW_END.value),
            f"{where}.confirmed_by",
            ConfirmedBy,
        ),
    )
    if endpoint.get("after_response") is not None:
        anchor = _parse_after_response(
            endpoint["after_response"], f"{where}.after_response", defaults, criteria_path
        )
        spec = replace(spec, after_response=anchor)
    _check_kind_only_keys(endpoint, kind, where)
    return _check_kind_requirements(spec, where, key_paths)


# Endpoint keys that only one kind understands: elsewhere they would be silently ignored.
_KIND_ONLY_KEYS = {
    "after_response": EndpointKind.SUSTAINED_RESPONSE,
    "confirmed_by": EndpointKind.RESPONSE_AT_TIME_POINT,
}


def _check_kind_only_keys(endpoint: Mapping[str, Any], kind: EndpointKind, where: str) -> None:
    for key, only in _KIND_ONLY_KEYS.items():
        if endpoint.get(key) is not None and kind is not only:
            raise DomainError(f"{where}.{key}", f"only for kind {only.value}, not {kind.value}")


def _parse_after_response(
    raw: object, where: str, defaults: Mapping[str, Any], criteria_path: str
) -> AfterResponse:
    block = _mapping(raw, where)
    _reject_unknown_keys(block, ("level",), lambda key: f"{where}.{key}")
    level = _text(block.get("level"), f"{where}.level")
    criteria = parse_response_criteria(defaults, path=criteria_path)
    codes = [known.code for known in criteria.platelet_levels]
    if level not in codes:
        known = ", ".join(codes) or "none"
        raise DomainError(
            f"{where}.level", f"unknown platelet level {level!r} in {criteria_path} ({known})"
        )
    return AfterResponse(level, criteria)


def _reject_unknown_override_keys(override: Mapping[str, Any], where: str) -> None:
    """Catch misspelt keys before merging: a misspelt ``key: null`` would otherwise vanish."""
    _reject_unknown_keys(override, _CRITERIA_KEYS, lambda key: f"{where}.{key}")
    levels = override.get("levels")
    if isinstance(levels, Mapping):
        for code, level in levels.items():
            if isinstance(level, Mapping):
                level_where = f"{where}.levels.{code}"
                _reject_unknown_keys(level, _LEVEL_KEYS, lambda key, at=level_where: f"{at}.{key}")


def _check_kind_requirements(spec: EndpointSpec, where: str, key_paths: _KeyPaths) -> EndpointSpec:
    """Per-kind completeness; fills the default level (the least stringent one)."""
    kind = spec.kind
    if kind in PLATELET_KINDS or kind is EndpointKind.HAEMOGLOBIN_RESPONSE:
        platelet_kind = kind in PLATELET_KINDS
        levels = (
            spec.criteria.platelet_levels if platelet_kind else spec.criteria.haemoglobin_levels
        )
        family = "platelet" if platelet_kind else "haemoglobin"
        if not levels:
            raise DomainError(key_paths("levels"), f"no {family} level for kind {kind.value}")
        codes = [level.code for level in levels]
        if spec.level is not None and spec.level not in codes:
            known = ", ".join(codes)
            raise DomainError(f"{where}.level", f"unknown {family} level {spec.level!r} ({known})")
        _check_baseline_test(spec.criteria, levels, "PLAT" if platelet_kind else "HGB", key_paths)
        if platelet_kind and spec.level is None:
            spec = replace(spec, level=codes[-1])
    if spec.match is LevelMatch.EXACTLY and kind in EXACT_MATCH_UNSUPPORTED:
        raise DomainError(f"{where}.match", f"kind {kind.value} counts a level or better only")
    if kind is EndpointKind.SUSTAINED_RESPONSE and spec.duration_days is None:
        raise DomainError(f"{where}.duration_days", "required for kind sustained_response")
    if kind in (EndpointKind.PEAK_VALUE, EndpointKind.VALUE_AT_TIME_POINT) and not spec.test_code:
        raise DomainError(f"{where}.test_code", f"required for kind {kind.value}")
    if kind is EndpointKind.SCORE_CHANGE and spec.score is None:
        raise DomainError(f"{where}.score", "required for kind score_change (ESSDAI or ESSPRI)")
    return spec


def _check_baseline_test(
    criteria: ResponseCriteria, levels: Sequence[ResponseLevel], test: str, key_paths: _KeyPaths
) -> None:
    uses_baseline = any(level.fold_of_baseline or level.rise_from_baseline for level in levels)
    baseline = criteria.baseline
    if uses_baseline and baseline is not None and baseline.test_code != test:
        raise DomainError(
            key_paths("baseline", "test_code"),
            f"levels relative to baseline need a {test} baseline, not {baseline.test_code}",
        )


def _parse_criteria(raw: Mapping[str, Any], where: _KeyPaths) -> ResponseCriteria:
    _reject_unknown_keys(raw, _CRITERIA_KEYS, where)
    levels_raw = _mapping(raw.get("levels") or {}, where("levels"))
    parsed = [
        _parse_level(code, level, where)
        for code, level in levels_raw.items()
        if level is not None  # an explicit null removed the level
    ]
    levels = tuple(sorted(parsed, key=lambda level: (level.rank, level.code)))
    for family in (ResponseLevel.is_platelet_level, ResponseLevel.is_haemoglobin_level):
        members = [level for level in levels if family.fget(level)]
        for better, worse in itertools.pairwise(members):
            if better.rank == worse.rank:
                raise DomainError(
                    where("levels", worse.code, "rank"),
                    f"rank {worse.rank} is also the rank of level {better.code}; "
                    "each level needs its own rank (1 = best)",
                )
    return ResponseCriteria(
        baseline=_sub(raw, "baseline", where, _parse_baseline),
        levels=levels,
        bleeding=_sub(raw, "bleeding", where, _parse_bleeding),
        rescue=_sub(raw, "rescue", where, _parse_rescue),
        confirmation=_sub(raw, "confirmation", where, _parse_confirmation),
        loss=_sub(raw, "loss", where, _parse_loss),
        transfusion_free_days=_nullable(
            raw.get("transfusion_free_days"), where("transfusion_free_days"), _non_negative_int
        ),
    )


def _parse_level(code: object, raw: object, where: _KeyPaths) -> ResponseLevel:
    code_text = _text(code, where("levels", code))
    if code_text == NON_RESPONSE:
        raise DomainError(where("levels", code), f"{NON_RESPONSE} is reserved for non-response")
    level = _mapping(raw, where("levels", code))
    _reject_unknown_keys(level, _LEVEL_KEYS, lambda key: where("levels", code, key))

    def threshold(key: str) -> Threshold | None:
        return _nullable(level.get(key), where("levels", code, key), _parse_threshold)

    fold_raw = level.get("fold_of_baseline")
    fold_where = where("levels", code, "fold_of_baseline")
    fold = None
    if fold_raw is not None:
        if isinstance(fold_raw, Mapping):
            fold = _parse_threshold(fold_raw, fold_where)
        else:
            fold = Threshold(">=", _decimal(fold_raw, fold_where))
        if fold.value <= 0:
            raise DomainError(fold_where, "the multiple of baseline must be positive")
    if level.get("rank") is None:
        raise DomainError(
            _join(where("levels", code), "rank"),  # the block that defines the level lacks it
            "required: the level's rank, 1 for the best level (key order carries no meaning)",
        )
    parsed = ResponseLevel(
        code=code_text,
        rank=_positive_int(level["rank"], where("levels", code, "rank")),
        platelets=threshold("platelets"),
        platelets_max=threshold("platelets_max"),
        fold_of_baseline=fold,
        hb=threshold("hb"),
        hb_max=threshold("hb_max"),
        rise_from_baseline=threshold("rise_from_baseline"),
        combine=_choice(
            level.get("combine", "all"), where("levels", code, "combine"), ("all", "any")
        ),
    )
    if parsed.is_platelet_level and parsed.is_haemoglobin_level:
        raise DomainError(
            where("levels", code),
            "mixes platelet and haemoglobin rules; set the ones that do not apply to null",
        )
    if not parsed.is_platelet_level and not parsed.is_haemoglobin_level:
        raise DomainError(where("levels", code), "a level needs at least one rule")
    return parsed


def _parse_threshold(raw: object, where: str) -> Threshold:
    threshold = _mapping(raw, where)
    _reject_unknown_keys(threshold, ("op", "value"), lambda key: f"{where}.{key}")
    op = _choice(threshold.get("op"), f"{where}.op", tuple(_OPERATORS))
    return Threshold(op, _decimal(threshold.get("value"), f"{where}.value"))


def _parse_baseline(raw: Mapping[str, Any], where: Callable[..., str]) -> BaselineRule:
    _reject_unknown_keys(raw, ("test_code", "window_days"), lambda key: where(key))
    return BaselineRule(
        test_code=_series_test(raw.get("test_code"), where("test_code")),
        window_days=_nullable(raw.get("window_days"), where("window_days"), _non_negative_int),
    )


def _parse_bleeding(raw: Mapping[str, Any], where: Callable[..., str]) -> BleedingRule:
    _reject_unknown_keys(raw, ("min_who_grade", "window_days"), lambda key: where(key))
    grade = _non_negative_int(raw.get("min_who_grade", 1), where("min_who_grade"))
    if grade > 4:
        raise DomainError(where("min_who_grade"), f"WHO bleeding grades are 0–4, not {grade}")
    return BleedingRule(grade, _non_negative_int(raw.get("window_days", 0), where("window_days")))


def _parse_rescue(raw: Mapping[str, Any], where: Callable[..., str]) -> RescueRule:
    keys = ("lookback_days", "itp_directed_only", "since_start")
    _reject_unknown_keys(raw, keys, lambda key: where(key))
    since_start = _bool(raw.get("since_start", False), where("since_start"))
    lookback = _nullable(raw.get("lookback_days"), where("lookback_days"), _non_negative_int)
    if lookback is None and not since_start:
        raise DomainError(where("lookback_days"), "required unless since_start is true")
    return RescueRule(
        lookback_days=lookback,
        itp_directed_only=_bool(raw.get("itp_directed_only", True), where("itp_directed_only")),
        since_start=since_start,
    )


def _parse_confirmation(
    raw: Mapping[str, Any], where: Callable[..., str]
) -> ConfirmationRule | None:
    _reject_unknown_keys(raw, ("required", "min_days", "inclusive"), lambda key: where(key))
    if not _bool(raw.get("required", True), where("required")):
        return None
    return ConfirmationRule(
        min_days=_non_negative_int(raw.get("min_days"), where("min_days")),
        inclusive=_bool(raw.get("inclusive", False), where("inclusive")),
    )


def _parse_loss(raw: Mapping[str, Any], where: Callable[..., str]) -> LossRule:
    keys = ("confirmations", "min_days", "inclusive", "bleeding")
    _reject_unknown_keys(raw, keys, lambda key: where(key))
    return LossRule(
        confirmations=_positive_int(raw.get("confirmations"), where("confirmations")),
        min_days=_non_negative_int(raw.get("min_days", 0), where("min_days")),
        inclusive=_bool(raw.get("inclusive", False), where("inclusive")),
        bleeding=_bool(raw.get("bleeding", True), where("bleeding")),
    )


def _parse_time_point(raw: object, where: str) -> TimePoint:
    time_point = _mapping(raw, where)
    keys = ("day", "window_before", "window_after")
    _reject_unknown_keys(time_point, keys, lambda key: f"{where}.{key}")
    return TimePoint(
        day=_non_negative_int(time_point.get("day"), f"{where}.day"),
        window_before=_non_negative_int(
            time_point.get("window_before", 0), f"{where}.window_before"
        ),
        window_after=_non_negative_int(time_point.get("window_after", 0), f"{where}.window_after"),
    )


def _parse_mcii(raw: object, where: str) -> MciiRule:
    mcii = _mapping(raw, where)
    _reject_unknown_keys(mcii, ("absolute_drop", "relative_drop"), lambda key: f"{where}.{key}")
    absolute = _nullable(mcii.get("absolute_drop"), f"{where}.absolute_drop", _decimal)
    relative = _nullable(mcii.get("relative_drop"), f"{where}.relative_drop", _decimal)
    if absolute is None and relative is None:
        raise DomainError(where, "give absolute_drop, relative_drop or both")
    if absolute is not None and absolute < 0:
        raise DomainError(f"{where}.absolute_drop", "must not be negative")
    if relative is not None and not Decimal(0) < relative <= Decimal(1):
        raise DomainError(f"{where}.relative_drop", "is a fraction of baseline (0.15 = 15%)")
    return MciiRule(absolute, relative)


def _sub(raw: Mapping[str, Any], key: str, where: _KeyPaths, parse: Callable[..., Any]) -> Any:
    """Parse an optional rule block; None (absent or nulled) means the rule does not apply."""
    value = raw.get(key)
    if value is None:
        return None
    block = _mapping(value, where(key))
    return parse(block, lambda *keys: where(key, *keys))


def _optional(raw: Mapping[str, Any], key: str, where: str, parse: Callable[..., Any]) -> Any:
    return _nullable(raw.get(key), f"{where}.{key}", parse)


def _nullable(value: object, where: str, parse: Callable[..., Any]) -> Any:
    return None if value is None else parse(value, where)


def _reject_unknown_keys(
    raw: Mapping[str, Any], allowed: Sequence[str], where: Callable[[str], str]
) -> None:
    for key in raw:
        if key not in allowed:
            raise DomainError(where(key), f"unknown key (allowed: {', '.join(allowed)})")


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DomainError(where, f"must be a mapping, not {type(value).__name__}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(where, "must be a non-empty text")
    return value


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise DomainError(where, f"must be true or false, not {value!r}")
    return value


def _choice(value: object, where: str, choices: Any) -> Any:
    allowed = [str(choice) for choice in choices]
    if not isinstance(value, str) or value not in allowed:
        raise DomainError(where, f"{value!r} is not one of {', '.join(allowed)}")
    return choices(value) if isinstance(choices, type) else value


def _non_negative_int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(where, f"must be a whole number of days, not {value!r}")
    if value < 0:
        raise DomainError(where, f"must not be negative ({value})")
    return value


def _positive_int(value: object, where: str) -> int:
    number = _non_negative_int(value, where)
    if number == 0:
        raise DomainError(where, "must be at least 1")
    return number


def _decimal(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise DomainError(where, f"must be a number, not {value!r}")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise DomainError(where, f"must be a number, not {value!r}") from None
    if not number.is_finite():
        raise DomainError(where, f"must be a finite number, not {value!r}")
    return number


def _series_test(value: object, where: str) -> str:
    return _choice(value, where, SERIES_TESTS)


def _score_name(value: object, where: str) -> str:
    return _choice(value, where, SCORES)


# --- Assessment of single platelet counts ----------------------------------------------------


def assess_visits(
    spec_or_criteria: EndpointSpec | ResponseCriteria | Mapping[str, Any], course: PatientCourse
) -> list[VisitResponse]:
    """Classify every platelet count after day 1 (up to as_of / withdrawal) with the criteria."""
    criteria = _criteria_of(spec_or_criteria)
    visible = _cut(course, _data_end(course))
    baseline = baseline_platelets(criteria, visible)
    return [
        assess_platelet_response(count, criteria, visible, baseline)
        for count in _after_day1(visible.platelets, visible.day1)
    ]


def baseline_platelets(criteria: ResponseCriteria, course: PatientCourse) -> Decimal | None:
    if course.baseline_platelets is not None:
        return course.baseline_platelets
    found = _baseline_observation(course.platelets, criteria.baseline, course.day1)
    return None if found is None else found.value


def assess_platelet_response(
    count: Observation,
    criteria: ResponseCriteria,
    course: PatientCourse,
    baseline: Decimal | None,
) -> VisitResponse:
    """Best platelet level met by the count; bleeding or rescue in their windows make it NR."""
    level, count_text = _match_platelet_level(count, criteria.platelet_levels, baseline)
    bleeding = _bleeding_at(count.date, criteria.bleeding, course)
    rescue = _rescue_before(count.date, criteria.rescue, course)
    qualifying = level is not None and bleeding is None and rescue is None
    response = level.code if qualifying and level else NON_RESPONSE
    if level is not None and not qualifying:
        count_text = f"{count_text} ({level.code} by count)"
    detail = "; ".join(
        (
            f"{response}: {count_text}",
            _bleeding_text(bleeding, criteria.bleeding),
            _rescue_text(rescue, criteria.rescue),
        )
    )
    return VisitResponse(
        date=count.date,
        platelet_count=count.value,
        response=response,
        bleeding=bleeding is not None,
        rescue=rescue is not None,
        qualifying=qualifying,
        detail=detail,
    )


def _match_platelet_level(
    count: Observation, levels: Sequence[ResponseLevel], baseline: Decimal | None
) -> tuple[ResponseLevel | None, str]:
    where = f"PLT {_fmt(count.value)} on {count.date.isoformat()}"
    for level in levels:
        met, rules_text = _platelet_rules(level, count.value, baseline)
        if met:
            return level, f"{where} {rules_text}"
    if not levels:
        return None, f"{where}: no platelet level defined"
    lowest = levels[-1]
    _, needs = _platelet_rules(lowest, count.value, baseline)
    return None, f"{where} meets no level ({lowest.code} needs {needs})"


def _platelet_rules(
    level: ResponseLevel, value: Decimal, baseline: Decimal | None
) -> tuple[bool, str]:
    rules: list[tuple[bool, str]] = []
    for threshold in (level.platelets, level.platelets_max):
        if threshold is not None:
            rules.append((threshold.holds(value), threshold.describe()))
    fold = level.fold_of_baseline
    if fold is not None:
        multiple = f"{_SYMBOLS[fold.op]} {_fmt(fold.value)}× baseline"
        if baseline is None:
            rules.append((False, f"{multiple} (no baseline count)"))
        else:
            bound = fold.value * baseline
            text = f"{multiple} {_fmt(baseline)} (={_fmt(bound)})"
            rules.append((fold.holds(value, bound), text))
    return _combine(level, rules)


def _combine(level: ResponseLevel, rules: list[tuple[bool, str]]) -> tuple[bool, str]:
    outcomes = [met for met, _ in rules]
    met = all(outcomes) if level.combine == "all" else any(outcomes)
    joiner = " and " if level.combine == "all" else " or "
    return met, joiner.join(text for _, text in rules)


def _bleeding_at(
    day: dt.date, rule: BleedingRule | None, course: PatientCourse
) -> BleedingObservation | None:
    if rule is None:
        return None
    window_start = day - dt.timedelta(days=rule.window_days)
    return next(
        (event for event in _relevant_bleeding(rule, course) if window_start <= event.date <= day),
        None,
    )


def _bleeding_between(
    after: dt.date, until: dt.date, rule: BleedingRule | None, course: PatientCourse
) -> BleedingObservation | None:
    if rule is None:
        return None
    return next(
        (event for event in _relevant_bleeding(rule, course) if after < event.date <= until),
        None,
    )


def _relevant_bleeding(rule: BleedingRule, course: PatientCourse) -> list[BleedingObservation]:
    events = [event for event in course.bleeding if event.who_grade >= rule.min_who_grade]
    return sorted(events, key=lambda event: event.date)


def _rescue_before(
    day: dt.date, rule: RescueRule | None, course: PatientCourse
) -> RescueEpisode | None:
    if rule is None:
        return None
    if rule.since_start:
        window_start = course.day1
    else:
        window_start = day - dt.timedelta(days=rule.lookback_days or 0)
    return _rescue_during(window_start, day, rule, course)


def _rescue_during(
    first_day: dt.date, last_day: dt.date, rule: RescueRule | None, course: PatientCourse
) -> RescueEpisode | None:
    """First rescue episode active on any day of [first_day, last_day]."""
    if rule is None:
        return None
    for episode in sorted(course.rescue, key=lambda episode: episode.start):
        if rule.itp_directed_only and not episode.itp_directed:
            continue
        if episode.start <= last_day and (episode.stop is None or episode.stop >= first_day):
            return episode
    return None


def _bleeding_text(event: BleedingObservation | None, rule: BleedingRule | None) -> str:
    if rule is None:
        return "bleeding not assessed"
    if event is not None:
        return f"WHO grade {event.who_grade} bleeding on {event.date.isoformat()}"
    if rule.window_days == 0:
        return "no bleeding"
    return f"no bleeding in prior {rule.window_days} days"


def _rescue_text(episode: RescueEpisode | None, rule: RescueRule | None) -> str:
    if rule is None:
        return "rescue not assessed"
    window = "since day 1" if rule.since_start else f"in prior {rule.lookback_days} days"
    if episode is None:
        return f"no rescue {window}"
    stop = episode.stop.isoformat() if episode.stop else "ongoing"
    return f"rescue {episode.therapy} {episode.start.isoformat()} to {stop} {window}"


# --- Response episodes: confirmation, loss, regain -------------------------------------------


def find_response_episodes(
    visits: Sequence[VisitResponse],
    criteria: ResponseCriteria,
    course: PatientCourse,
    level: str,
) -> EpisodeSearch:
    """Confirmed responses at `level` or better, in order; a later regain is a new episode."""
    qualifies = _qualifies_at(criteria, level)
    episodes: list[ResponseEpisode] = []
    index = 0
    while index < len(visits):
        if not qualifies(visits[index]):
            index += 1
            continue
        confirming: VisitResponse | None = None
        found_index: int | None = None
        if criteria.confirmation is not None:
            found = _find_confirmation(visits, index, criteria, course, qualifies)
            if found.pending:
                return EpisodeSearch(episodes, visits[index])
            if found.index is None:
                index = found.resume
                continue
            found_index = found.index
            confirming = visits[found_index]
        last_checked = index if found_index is None else found_index
        loss = _find_loss(visits, last_checked, criteria, course, qualifies)
        episodes.append(ResponseEpisode(level, visits[index], confirming, loss.date, loss.detail))
        if loss.date is None:
            break
        index = loss.resume
    return EpisodeSearch(episodes, None)


class _Confirmation(NamedTuple):
    index: int | None
    resume: int
    pending: bool


class _Loss(NamedTuple):
    date: dt.date | None
    detail: str | None
    resume: int


def _find_confirmation(
    visits: Sequence[VisitResponse],
    first_index: int,
    criteria: ResponseCriteria,
    course: PatientCourse,
    qualifies: Callable[[VisitResponse], bool],
) -> _Confirmation:
    rule = criteria.confirmation
    assert rule is not None
    first = visits[first_index]
    for index in range(first_index + 1, len(visits)):
        candidate = visits[index]
        if not qualifies(candidate):
            return _Confirmation(None, index + 1, False)
        if _bleeding_between(first.date, candidate.date, criteria.bleeding, course):
            return _Confirmation(None, index, False)  # the candidate may start a new run
        if _apart(first.date, candidate.date, rule.min_days, rule.inclusive):
            return _Confirmation(index, index, False)
    return _Confirmation(None, len(visits), True)


def _find_loss(
    visits: Sequence[VisitResponse],
    confirmed_index: int,
    criteria: ResponseCriteria,
    course: PatientCourse,
    qualifies: Callable[[VisitResponse], bool],
) -> _Loss:
    """Earliest loss after the confirming count: a confirmed run of non-qualifying counts
    (dated at its first count) or, if the rule says so, qualifying bleeding."""
    rule = criteria.loss or SINGLE_COUNT_LOSS
    confirmed_on = visits[confirmed_index].date
    chain = _non_qualifying_chain(visits, confirmed_index + 1, rule, qualifies)
    bleeding = None
    if rule.bleeding and criteria.bleeding is not None:
        bleeding = next(
            (
                event
                for event in _relevant_bleeding(criteria.bleeding, course)
                if event.date > confirmed_on
            ),
            None,
        )
    if chain and (bleeding is None or visits[chain[0]].date <= bleeding.date):
        counts = ", ".join(_plt_on(visits[index]) for index in chain)
        spacing = "≥" if rule.inclusive else ">"
        detail = (
            f"lost on {visits[chain[0]].date.isoformat()}: {counts} "
            f"({rule.confirmations} non-qualifying count(s) {spacing} {rule.min_days} day(s) apart)"
        )
        return _Loss(visits[chain[0]].date, detail, chain[0] + 1)
    if bleeding is not None:
        detail = f"lost on {bleeding.date.isoformat()}: WHO grade {bleeding.who_grade} bleeding"
        resume = next(
            (index for index, visit in enumerate(visits) if visit.date > bleeding.date),
            len(visits),
        )
        return _Loss(bleeding.date, detail, resume)
    return _Loss(None, None, len(visits))


def _non_qualifying_chain(
    visits: Sequence[VisitResponse],
    start: int,
    rule: LossRule,
    qualifies: Callable[[VisitResponse], bool],
) -> list[int] | None:
    """Indexes of the first `rule.confirmations` consecutive non-qualifying counts spaced by the
    rule, or None. Greedy from the first count of each run: the earliest chain wins."""
    index = start
    while index < len(visits):
        if qualifies(visits[index]):
            index += 1
            continue
        chain = [index]
        nxt = index + 1
        while nxt < len(visits) and not qualifies(visits[nxt]):
            if len(chain) == rule.confirmations:
                break
            if _apart(visits[chain[-1]].date, visits[nxt].date, rule.min_days, rule.inclusive):
                chain.append(nxt)
            nxt += 1
        if len(chain) == rule.confirmations:
            return chain
        index = nxt  # the run ended (a qualifying count or no more data) before confirming
    return None


def _qualifies_at(criteria: ResponseCriteria, level: str) -> Callable[[VisitResponse], bool]:
    ranks = {lvl.code: rank for rank, lvl in enumerate(criteria.platelet_levels)}
    target = ranks[level]
    return lambda visit: visit.qualifying and ranks.get(visit.response, len(ranks)) <= target


def _matches_level(
    response: str, level: str, match: LevelMatch, levels: Sequence[ResponseLevel]
) -> bool:
    if response == NON_RESPONSE:
        return False
    if match is LevelMatch.EXACTLY:
        return response == level
    ranks = {lvl.code: rank for rank, lvl in enumerate(levels)}
    return ranks[response] <= ranks[level]


def _apart(first: dt.date, second: dt.date, min_days: int, inclusive: bool) -> bool:
    gap = (second - first).days
    return gap >= min_days if inclusive else gap > min_days


# --- Endpoint evaluation ---------------------------------------------------------------------


def evaluate_endpoints(
    specs: Sequence[EndpointSpec], course: PatientCourse
) -> dict[str, EndpointResult]:
    return {spec.code: evaluate_endpoint(spec, course) for spec in specs}


def evaluate_endpoint(spec: EndpointSpec, course: PatientCourse) -> EndpointResult:
    visible = _cut(course, _data_end(course))
    met, value, event, detail = _EVALUATORS[spec.kind](spec, visible)
    return EndpointResult(spec.code, spec.kind, met, value, event, detail)


class _Outcome(NamedTuple):
    met: bool | None
    value: Decimal | int | str | None
    event: bool | None
    detail: str


@dataclass(frozen=True)
class _Window:
    target: dt.date
    start: dt.date
    end: dt.date

    def describe(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class _Lookup(NamedTuple):
    """The assessment nearest a time point, or why there is none (yet)."""

    nearest: Any | None
    missing: bool  # True: the window closed without an assessment
    reason: str


def _evaluate_best_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.level is not None
    window = _window(course.day1, spec.time_point)
    bounded = _cut(course, window.end)
    visits = _platelet_visits(spec.criteria, bounded)
    codes = [level.code for level in spec.criteria.platelet_levels]
    exact = spec.match is LevelMatch.EXACTLY
    # An exact match must also rule out the better levels, so it looks from the best one down.
    candidates = codes[: codes.index(spec.level) + 1] if exact else [spec.level]
    for code in candidates:
        search = find_response_episodes(visits, spec.criteria, bounded, code)
        if not search.episodes:
            continue
        evidence = _episode_text(search.episodes[0])
        if code != spec.level:
            detail = f"best confirmed response {code}, better than {spec.level}: {evidence}"
            return _Outcome(False, None, None, detail)
        if exact and not _closed(course, window.end):
            detail = (
                f"{code} confirmed, a better level may follow by {window.end.isoformat()}: "
                f"{evidence}"
            )
            return _Outcome(None, None, None, detail)
        return _Outcome(True, None, None, f"confirmed {_reach(spec)} from {evidence}")
    reach = _reach(spec)
    pending = _pending_text(find_response_episodes(visits, spec.criteria, bounded, spec.level))
    if _withdrawn_before(course, window.end):
        assert course.withdrawn_on is not None
        detail = (
            f"withdrawn on {course.withdrawn_on.isoformat()} with no confirmed {reach} by then "
            f"(window ends {window.end.isoformat()}): counted as non-responder"
            f"{_last_assessment_text(visits)}{pending}"
        )
        return _Outcome(False, None, None, detail)
    if not _closed(course, window.end):
        detail = (
            f"no confirmed {reach} as of {course.as_of.isoformat()}; window ends "
            f"{window.end.isoformat()}{pending}"
        )
        return _Outcome(None, None, None, detail)
    detail = (
        f"no confirmed {reach} between day 1 and {window.end.isoformat()}"
        f"{_last_assessment_text(visits)}{pending}"
    )
    return _Outcome(False, None, None, detail)


def _evaluate_response_at_time_point(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.level is not None
    window = _window(course.day1, spec.time_point)
    bounded = _cut(course, window.end)
    visits = _platelet_visits(spec.criteria, bounded)
    lookup = _nearest_assessment(visits, window, course)
    if lookup.nearest is None:
        return _Outcome(False if lookup.missing else None, None, None, lookup.reason)
    nearest: VisitResponse = lookup.nearest
    levels = spec.criteria.platelet_levels
    if not _matches_level(nearest.response, spec.level, spec.match, levels):
        return _Outcome(False, None, None, f"{nearest.detail}; needs {_reach(spec)}")
    if spec.criteria.confirmation is None:
        return _Outcome(True, None, None, nearest.detail)
    ongoing = spec.confirmed_by is ConfirmedBy.ASSESSMENT
    # The evidence that may confirm the count: up to the window end, or up to the count itself.
    last_day = nearest.date if ongoing else window.end
    evidence = [visit for visit in visits if visit.date <= last_day]
    search = find_response_episodes(evidence, spec.criteria, bounded, spec.level)
    episode = _episode_covering(search.episodes, nearest.date)
    if episode is not None:
        detail = (
            f"{nearest.detail}; in response since {episode.start.isoformat()}: "
            f"{_episode_text(episode)}"
        )
        return _Outcome(True, None, None, detail)
    awaiting = search.pending is not None and search.pending.date <= nearest.date
    if not ongoing and awaiting and not _closed(course, window.end):
        detail = f"{nearest.detail}; awaiting confirmation by {window.end.isoformat()}"
        return _Outcome(None, None, None, detail)
    by = f"on or before {nearest.date.isoformat()}" if ongoing else f"by {last_day.isoformat()}"
    position = next(index for index, visit in enumerate(evidence) if visit is nearest)
    run = _qualifying_run(evidence, position, spec, bounded)
    withdrawn = (
        "" if ongoing or not _withdrawn_before(course, window.end) else _withdrawn_note(course)
    )
    detail = (
        f"{nearest.detail}{_lost_before_text(search.episodes, nearest.date)}; not part of a "
        f"response confirmed {by} ({_confirmation_text(spec.criteria)}); unbroken qualifying run: "
        f"{', '.join(_plt_on(visit) for visit in run)}{withdrawn}"
    )
    return _Outcome(False, None, None, detail)


def _episode_covering(episodes: Sequence[ResponseEpisode], day: dt.date) -> ResponseEpisode | None:
    """The response episode that started on or before `day` and was not lost by then."""
    for episode in episodes:
        if episode.start <= day and (episode.lost_on is None or episode.lost_on > day):
            return episode
    return None


def _lost_before_text(episodes: Sequence[ResponseEpisode], day: dt.date) -> str:
    """The latest response lost on or before `day`: when, and by what (counts or bleeding)."""
    lost = [ep for ep in episodes if ep.lost_on is not None and ep.lost_on <= day]
    if not lost:
        return ""
    episode = lost[-1]
    return (
        f"; earlier response from {_plt_on(episode.first)}{_confirmed_by_text(episode)} "
        f"{episode.loss_detail}"
    )


def _confirmed_by_text(episode: ResponseEpisode) -> str:
    if episode.confirmed_by is None:
        return ""
    return f" confirmed by {_plt_on(episode.confirmed_by)}"


def _qualifying_run(
    visits: Sequence[VisitResponse], index: int, spec: EndpointSpec, course: PatientCourse
) -> list[VisitResponse]:
    """The counts around visits[index] that qualify at the endpoint's level with no qualifying
    bleeding between them: the run a confirmation would have to come from."""
    assert spec.level is not None
    qualifies = _qualifies_at(spec.criteria, spec.level)
    bleeding = spec.criteria.bleeding

    def joined(earlier: VisitResponse, later: VisitResponse) -> bool:
        return (
            qualifies(earlier)
            and qualifies(later)
            and (_bleeding_between(earlier.date, later.date, bleeding, course) is None)
        )

    first = index
    while first > 0 and joined(visits[first - 1], visits[first]):
        first -= 1
    last = index
    while last + 1 < len(visits) and joined(visits[last], visits[last + 1]):
        last += 1
    return list(visits[first : last + 1])


def _evaluate_sustained_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.duration_days is not None
    horizon = _window(course.day1, spec.time_point).end if spec.time_point else None
    bounded = _cut(course, horizon) if horizon else course
    visits = _platelet_visits(spec.criteria, bounded)
    if spec.after_response is None:
        runs = _free_runs(visits, spec, bounded)
        lasting = next((run for run in runs if run.lasted), None)
        if lasting is not None:
            return _Outcome(True, lasting.days, None, _lasting_text(lasting, spec))
        summary = _longest_run_text(runs, spec, visits)
    else:
        anchor = spec.after_response
        anchor_visits = _platelet_visits(anchor.criteria, bounded)
        search = find_response_episodes(anchor_visits, anchor.criteria, bounded, anchor.level)
        tried = _runs_after_response(visits, anchor_visits, search.episodes, spec, bounded)
        for episode, run in tried:
            if run.lasted:
                detail = (
                    f"confirmed {anchor.level} or better under the protocol response criteria: "
                    f"{_episode_text(episode)}; then maintained {_lasting_text(run, spec)}"
                )
                return _Outcome(True, run.days, None, detail)
        summary = _after_response_text(tried, search, anchor_visits, spec)
    if _withdrawn_before(course, horizon):
        return _Outcome(False, None, None, f"{_withdrawal_text(course, horizon)}; {summary}")
    if horizon is not None and _closed(course, horizon):
        detail = f"no sustained response by {horizon.isoformat()}; {summary}"
        return _Outcome(False, None, None, detail)
    detail = f"no sustained response as of {course.as_of.isoformat()}; {summary}"
    return _Outcome(None, None, None, detail)


class _Run(NamedTuple):
    """Consecutive counts qualifying under an endpoint's criteria, from `first` on."""

    first: VisitResponse
    last: VisitResponse  # the last count that kept the run going (first if none did)
    counts: int  # 0: the first count itself does not qualify
    lasted: bool  # first and last count at least duration_days apart
    ended_by: str | None  # what broke the run; None if it lasted or the data ran out
    resume: int  # index of the first count a later run may start from

    @property
    def days(self) -> int:
        return (self.last.date - self.first.date).days


def _run_from(
    visits: Sequence[VisitResponse], start: int, spec: EndpointSpec, course: PatientCourse
) -> _Run:
    """The run starting at visits[start], up to duration_days or to what breaks it: a count
    that does not qualify, or qualifying bleeding or rescue between two counts."""
    assert spec.level is not None and spec.duration_days is not None
    qualifies = _qualifies_at(spec.criteria, spec.level)
    first = visits[start]
    if not qualifies(first):
        return _Run(first, first, 0, False, f"{first.detail}; needs {_reach(spec)}", start + 1)
    last, counts = first, 1
    for index in range(start + 1, len(visits)):
        visit = visits[index]
        if not qualifies(visit):
            return _Run(first, last, counts, False, visit.detail, index + 1)
        interruption = _interruption(last, visit, spec.criteria, course)
        if interruption is not None:
            return _Run(first, last, counts, False, interruption, index)
        last, counts = visit, counts + 1
        if (last.date - first.date).days >= spec.duration_days:
            return _Run(first, last, counts, True, None, index + 1)
    return _Run(first, last, counts, False, None, len(visits))


def _free_runs(
    visits: Sequence[VisitResponse], spec: EndpointSpec, course: PatientCourse
) -> list[_Run]:
    """Runs in date order, each from the first qualifying count after the previous one broke,
    up to the first that lasts."""
    assert spec.level is not None
    qualifies = _qualifies_at(spec.criteria, spec.level)
    runs: list[_Run] = []
    index = 0
    while index < len(visits):
        if not qualifies(visits[index]):
            index += 1
            continue
        run = _run_from(visits, index, spec, course)
        runs.append(run)
        if run.lasted:
            break
        index = run.resume
    return runs


def _runs_after_response(
    visits: Sequence[VisitResponse],
    anchor_visits: Sequence[VisitResponse],
    episodes: Sequence[ResponseEpisode],
    spec: EndpointSpec,
    course: PatientCourse,
) -> list[tuple[ResponseEpisode, _Run]]:
    """One run per confirmed response episode, from its first count, up to the first that lasts.
    `visits` and `anchor_visits` classify the same counts (same order) under the endpoint's and
    the protocol's criteria."""
    tried: list[tuple[ResponseEpisode, _Run]] = []
    for episode in episodes:
        start = next(index for index, visit in enumerate(anchor_visits) if visit is episode.first)
        assert visits[start].date == episode.start
        run = _run_from(visits, start, spec, course)
        tried.append((episode, run))
        if run.lasted:
            break
    return tried


def _interruption(
    earlier: VisitResponse, later: VisitResponse, criteria: ResponseCriteria, course: PatientCourse
) -> str | None:
    """Qualifying bleeding after `earlier` up to `later`, or rescue active in that period."""
    bleeding = _bleeding_between(earlier.date, later.date, criteria.bleeding, course)
    rescue = _rescue_during(earlier.date, later.date, criteria.rescue, course)
    found: list[str] = []
    if bleeding is not None:
        found.append(f"WHO grade {bleeding.who_grade} bleeding on {bleeding.date.isoformat()}")
    if rescue is not None:
        stop = rescue.stop.isoformat() if rescue.stop else "ongoing"
        found.append(f"rescue {rescue.therapy} {rescue.start.isoformat()} to {stop}")
    return " and ".join(found) or None


def _lasting_text(run: _Run, spec: EndpointSpec) -> str:
    return (
        f"{_reach(spec)} from {_plt_on(run.first)} to {_plt_on(run.last)}: {run.days} days ≥ "
        f"{spec.duration_days}, {run.counts} counts all qualifying; {run.first.detail}"
        f"{_run_clean_text(spec.criteria)}"
    )


def _run_text(run: _Run) -> str:
    """How long a run that did not last held, and what ended it."""
    if run.counts == 0:
        return f"0 days: its first count does not qualify ({run.ended_by})"
    text = f"{run.days} days from {_plt_on(run.first)} to {_plt_on(run.last)}"
    if run.ended_by is None:
        return f"{text}, no later count"
    return f"{text}, ended by {run.ended_by}"


def _longest_run_text(
    runs: Sequence[_Run], spec: EndpointSpec, visits: Sequence[VisitResponse]
) -> str:
    needs = f"(needs ≥ {spec.duration_days})"
    if not runs:
        return f"no count qualifying for {_reach(spec)} {needs}{_last_assessment_text(visits)}"
    longest = max(runs, key=lambda run: run.days)  # the earliest of equally long runs
    return f"longest qualifying run {_run_text(longest)} {needs}"


def _after_response_text(
    tried: Sequence[tuple[ResponseEpisode, _Run]],
    search: EpisodeSearch,
    anchor_visits: Sequence[VisitResponse],
    spec: EndpointSpec,
) -> str:
    anchor = spec.after_response
    assert anchor is not None
    if not tried:
        last = (
            f"; last assessment {anchor_visits[-1].detail}"
            if anchor_visits
            else "; no assessment after day 1"
        )
        return (
            f"no confirmed {anchor.level} or better under the protocol response criteria "
            f"({_confirmation_text(anchor.criteria)}){last}{_pending_text(search)}"
        )
    runs = "; ".join(
        f"response from {_plt_on(episode.first)}{_confirmed_by_text(episode)}: "
        f"{_reach(spec)} held {_run_text(run)}"
        for episode, run in tried
    )
    return f"{runs} (needs ≥ {spec.duration_days} days from the response's first count)"


def _run_clean_text(criteria: ResponseCriteria) -> str:
    checked = [
        name
        for name, rule in (("bleeding", criteria.bleeding), ("rescue", criteria.rescue))
        if rule is not None
    ]
    return f"; no {' or '.join(checked)} during the run" if checked else ""


def _evaluate_time_to_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    visits, search = _episodes_within_horizon(spec, course)
    if search.episodes:
        episode = search.episodes[0]
        days = (episode.start - course.day1).days
        return _Outcome(None, days, True, f"response on day {days}: {_episode_text(episode)}")
    last = visits[-1].date if visits else course.day1
    days = (last - course.day1).days
    detail = (
        f"no confirmed {_reach(spec)}; censored at last assessment {last.isoformat()} "
        f"(day {days}){_withdrawn_note(course)}{_pending_text(search)}"
    )
    return _Outcome(None, days, False, detail)


def _evaluate_duration_of_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    visits, search = _episodes_within_horizon(spec, course)
    if not search.episodes:
        detail = f"not a responder: no confirmed {_reach(spec)}{_last_assessment_text(visits)}"
        return _Outcome(None, None, None, detail)
    first = search.episodes[0]
    last = visits[-1].date
    # Cumulative time in response over time observed (IWG) is reported alongside, for the monitor.
    cumulative = sum(
        ((episode.lost_on or last) - episode.start).days for episode in search.episodes
    )
    summary = (
        f"; {len(search.episodes)} response episode(s), {cumulative} days in response over "
        f"{(last - course.day1).days} days observed"
    )
    if first.lost_on is not None:
        days = (first.lost_on - first.start).days
        detail = f"response from {first.start.isoformat()} {first.loss_detail} ({days} days)"
        return _Outcome(None, days, True, detail + summary)
    days = (last - first.start).days
    detail = (
        f"response from {first.start.isoformat()} not lost; censored at last assessment "
        f"{last.isoformat()} ({days} days){_withdrawn_note(course)}"
    )
    return _Outcome(None, days, False, detail + summary)


def _episodes_within_horizon(
    spec: EndpointSpec, course: PatientCourse
) -> tuple[list[VisitResponse], EpisodeSearch]:
    assert spec.level is not None
    bounded = _cut_to_horizon(course, spec.time_point)
    visits = _platelet_visits(spec.criteria, bounded)
    return visits, find_response_episodes(visits, spec.criteria, bounded, spec.level)


def _evaluate_peak_value(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.test_code is not None
    bounded = _cut_to_horizon(course, spec.time_point)
    values = _after_day1(_series(bounded, spec.test_code), course.day1)
    if not values:
        return _Outcome(None, None, None, f"no {spec.test_code} after day 1")
    peak = max(values, key=lambda obs: (obs.value, -obs.date.toordinal()))  # earliest of ties
    detail = (
        f"peak {spec.test_code} {_fmt(peak.value)} on {peak.date.isoformat()} (highest of "
        f"{len(values)} values from {values[0].date.isoformat()} to {values[-1].date.isoformat()})"
    )
    return _Outcome(None, peak.value, None, detail)


def _evaluate_value_at_time_point(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.test_code is not None
    window = _window(course.day1, spec.time_point)
    values = _after_day1(_series(_cut(course, window.end), spec.test_code), course.day1)
    lookup = _nearest_assessment(values, window, course, missing_means="no value")
    if lookup.nearest is None:
        return _Outcome(None, None, None, lookup.reason)
    nearest: Observation = lookup.nearest
    detail = (
        f"{spec.test_code} {_fmt(nearest.value)} on {nearest.date.isoformat()} "
        f"(nearest to {window.target.isoformat()} in window {window.describe()})"
    )
    return _Outcome(None, nearest.value, None, detail)


def _evaluate_haemoglobin_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    window = _window(course.day1, spec.time_point)
    values = _after_day1(_cut(course, window.end).haemoglobin, course.day1)
    lookup = _nearest_assessment(values, window, course)
    if lookup.nearest is None:
        if lookup.missing:
            return _Outcome(False, NON_RESPONSE, None, lookup.reason)
        return _Outcome(None, None, None, lookup.reason)
    response, detail = assess_haemoglobin_response(lookup.nearest, spec.criteria, course)
    if spec.level is None:
        met = response != NON_RESPONSE
    else:
        met = _matches_level(response, spec.level, spec.match, spec.criteria.haemoglobin_levels)
    return _Outcome(met, response, None, detail)


def assess_haemoglobin_response(
    value: Observation, criteria: ResponseCriteria, course: PatientCourse
) -> tuple[str, str]:
    """Best haemoglobin level met by one Hb value; NR if transfused within the rule's days."""
    baseline_obs = _baseline_observation(course.haemoglobin, criteria.baseline, course.day1)
    baseline = None if baseline_obs is None else baseline_obs.value
    where = f"Hb {_fmt(value.value)} on {value.date.isoformat()}"
    levels = criteria.haemoglobin_levels
    matched = None
    for level in levels:
        met, rules_text = _haemoglobin_rules(level, value.value, baseline)
        if met:
            matched, value_text = level, f"{where} {rules_text}"
            break
    else:
        _, needs = _haemoglobin_rules(levels[-1], value.value, baseline)
        value_text = f"{where} meets no level ({levels[-1].code} needs {needs})"
    transfusion = _transfusion_before(value.date, criteria.transfusion_free_days, course)
    response = matched.code if matched is not None and transfusion is None else NON_RESPONSE
    if matched is not None and transfusion is not None:
        value_text += f" ({matched.code} by value)"
    return response, f"{response}: {value_text}; {_transfusion_text(criteria, transfusion)}"


def _haemoglobin_rules(
    level: ResponseLevel, value: Decimal, baseline: Decimal | None
) -> tuple[bool, str]:
    rules: list[tuple[bool, str]] = []
    for threshold in (level.hb, level.hb_max):
        if threshold is not None:
            rules.append((threshold.holds(value), threshold.describe()))
    rise = level.rise_from_baseline
    if rise is not None:
        if baseline is None:
            rules.append((False, f"rise {rise.describe()} from baseline (no baseline Hb)"))
        else:
            change = value - baseline
            text = f"rise {_fmt(change)} {rise.describe()} from baseline {_fmt(baseline)}"
            rules.append((rise.holds(change), text))
    return _combine(level, rules)


def _transfusion_before(
    day: dt.date, free_days: int | None, course: PatientCourse
) -> dt.date | None:
    if free_days is None:
        return None
    window_start = day - dt.timedelta(days=free_days)
    return next((given for given in course.transfusions if window_start <= given <= day), None)


def _transfusion_text(criteria: ResponseCriteria, transfusion: dt.date | None) -> str:
    days = criteria.transfusion_free_days
    if days is None:
        return "transfusions not assessed"
    if transfusion is None:
        return f"no transfusion in prior {days} days"
    return f"transfusion on {transfusion.isoformat()} within prior {days} days"


def _evaluate_score_change(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.score is not None
    window = _window(course.day1, spec.time_point)
    scores = sorted(course.scores.get(spec.score, []), key=lambda obs: obs.date)
    baseline = next((obs for obs in reversed(scores) if obs.date <= course.day1), None)
    if baseline is None:
        return _Outcome(None, None, None, f"no baseline {spec.score} on or before day 1")
    # Without an MCII rule the endpoint is continuous only; with one, missing data is a failure.
    met_if_missing = False if spec.mcii is not None else None
    missing_means = "no value" if spec.mcii is None else "no value, MCII counted as not met"
    follow_ups = [obs for obs in _after_day1(scores, course.day1) if obs.date <= window.end]
    lookup = _nearest_assessment(follow_ups, window, course, missing_means=missing_means)
    if lookup.nearest is None:
        return _Outcome(met_if_missing if lookup.missing else None, None, None, lookup.reason)
    nearest: Observation = lookup.nearest
    change = nearest.value - baseline.value
    detail = (
        f"{spec.score} {_fmt(nearest.value)} on {nearest.date.isoformat()} − baseline "
        f"{_fmt(baseline.value)} on {baseline.date.isoformat()} = {_fmt(change)}"
    )
    if spec.mcii is None:
        return _Outcome(None, change, None, detail)
    met = is_clinically_important_improvement(
        baseline.value,
        nearest.value,
        absolute_drop=spec.mcii.absolute_drop,
        relative_drop=spec.mcii.relative_drop,
    )
    verdict = "met" if met else "not met"
    return _Outcome(met, change, None, f"{detail}; MCII ({spec.mcii.describe()}) {verdict}")


_EVALUATORS: dict[EndpointKind, Callable[[EndpointSpec, PatientCourse], _Outcome]] = {
    EndpointKind.BEST_RESPONSE: _evaluate_best_response,
    EndpointKind.RESPONSE_AT_TIME_POINT: _evaluate_response_at_time_point,
    EndpointKind.SUSTAINED_RESPONSE: _evaluate_sustained_response,
    EndpointKind.TIME_TO_RESPONSE: _evaluate_time_to_response,
    EndpointKind.DURATION_OF_RESPONSE: _evaluate_duration_of_response,
    EndpointKind.PEAK_VALUE: _evaluate_peak_value,
    EndpointKind.VALUE_AT_TIME_POINT: _evaluate_value_at_time_point,
    EndpointKind.HAEMOGLOBIN_RESPONSE: _evaluate_haemoglobin_response,
    EndpointKind.SCORE_CHANGE: _evaluate_score_change,
}


# --- Windows, cuts and helpers ---------------------------------------------------------------


def _window(day1: dt.date, time_point: TimePoint | None) -> _Window:
    assert time_point is not None  # parsing guarantees it for the kinds that call this
    target = day1 + dt.timedelta(days=time_point.day)
    return _Window(
        target=target,
        start=target - dt.timedelta(days=time_point.window_before),
        end=target + dt.timedelta(days=time_point.window_after),
    )


def _cut_to_horizon(course: PatientCourse, time_point: TimePoint | None) -> PatientCourse:
    if time_point is None:
        return course
    return _cut(course, _window(course.day1, time_point).end)


def _nearest_assessment(
    assessments: Sequence[Any],
    window: _Window,
    course: PatientCourse,
    *,
    missing_means: str = "counted as non-responder",
) -> _Lookup:
    """The assessment nearest the target (the earlier one on a tie), unless a nearer one may
    still arrive because the window is open at as_of."""
    inside = [item for item in assessments if window.contains(item.date)]
    nearest = min(
        inside, key=lambda item: (abs((item.date - window.target).days), item.date), default=None
    )
    if nearest is None and _closed(course, window.end):
        if _withdrawn_before(course, window.end):
            assert course.withdrawn_on is not None
            reason = (
                f"withdrawn on {course.withdrawn_on.isoformat()} with no assessment in window "
                f"{window.describe()} by then: {missing_means}"
            )
        else:
            reason = f"no assessment in window {window.describe()}: {missing_means}"
        return _Lookup(None, True, reason)
    if nearest is None:
        reason = f"no assessment yet in window {window.describe()} as of {course.as_of.isoformat()}"
        return _Lookup(None, False, reason)
    if _could_be_superseded(nearest.date, window, course):
        reason = (
            f"window {window.describe()} still open as of {course.as_of.isoformat()}: "
            f"an assessment nearer {window.target.isoformat()} may follow"
        )
        return _Lookup(None, False, reason)
    return _Lookup(nearest, False, "")


def _could_be_superseded(found: dt.date, window: _Window, course: PatientCourse) -> bool:
    """Whether an assessment after as_of, still inside the window, would be nearer the target."""
    if _closed(course, window.end):
        return False
    next_day = course.as_of + dt.timedelta(days=1)
    best_possible = max(0, (next_day - window.target).days)
    return best_possible < abs((found - window.target).days)


def _closed(course: PatientCourse, end: dt.date) -> bool:
    """No more data can arrive for a period ending on `end`: the data cut passed it, or the
    patient withdrew (as known at the data cut)."""
    return course.as_of >= end or _withdrawn_before(course, None)


def _withdrawn_before(course: PatientCourse, day: dt.date | None) -> bool:
    """Withdrawn (as known at as_of) before `day`; with day None, withdrawn at all."""
    withdrawn = course.withdrawn_on
    if withdrawn is None or withdrawn > course.as_of:
        return False
    return day is None or withdrawn < day


def _withdrawal_text(course: PatientCourse, day: dt.date | None) -> str:
    assert course.withdrawn_on is not None
    before = f" before {day.isoformat()}" if day else ""
    return f"withdrawn on {course.withdrawn_on.isoformat()}{before}: counted as non-responder"


def _withdrawn_note(course: PatientCourse) -> str:
    if not _withdrawn_before(course, None):
        return ""
    assert course.withdrawn_on is not None
    return f"; withdrawn on {course.withdrawn_on.isoformat()}"


def _data_end(course: PatientCourse) -> dt.date:
    if course.withdrawn_on is not None and course.withdrawn_on < course.as_of:
        return course.withdrawn_on
    return course.as_of


def _cut(course: PatientCourse, last_day: dt.date) -> PatientCourse:
    """The course as known on `last_day`: later observations and episodes removed, sorted."""

    def dated(items: Sequence[Any]) -> list[Any]:
        return sorted((item for item in items if item.date <= last_day), key=lambda i: i.date)

    return replace(
        course,
        platelets=dated(course.platelets),
        haemoglobin=dated(course.haemoglobin),
        bleeding=dated(course.bleeding),
        rescue=[episode for episode in course.rescue if episode.start <= last_day],
        transfusions=sorted(day for day in course.transfusions if day <= last_day),
        scores={name: dated(values) for name, values in course.scores.items()},
    )


def _after_day1(observations: Sequence[Observation], day1: dt.date) -> list[Observation]:
    return sorted((obs for obs in observations if obs.date > day1), key=lambda obs: obs.date)


def _baseline_observation(
    observations: Sequence[Observation], rule: BaselineRule | None, day1: dt.date
) -> Observation | None:
    if rule is None:
        return None
    earliest = None if rule.window_days is None else day1 - dt.timedelta(days=rule.window_days)
    candidates = [
        obs
        for obs in observations
        if obs.date <= day1 and (earliest is None or obs.date >= earliest)
    ]
    return max(candidates, key=lambda obs: obs.date, default=None)


def _series(course: PatientCourse, test_code: str) -> list[Observation]:
    return course.platelets if test_code == "PLAT" else course.haemoglobin


def _platelet_visits(criteria: ResponseCriteria, course: PatientCourse) -> list[VisitResponse]:
    baseline = baseline_platelets(criteria, course)
    return [
        assess_platelet_response(count, criteria, course, baseline)
        for count in _after_day1(course.platelets, course.day1)
    ]


def _criteria_of(
    spec_or_criteria: EndpointSpec | ResponseCriteria | Mapping[str, Any],
) -> ResponseCriteria:
    if isinstance(spec_or_criteria, EndpointSpec):
        return spec_or_criteria.criteria
    if isinstance(spec_or_criteria, ResponseCriteria):
        return spec_or_criteria
    return parse_response_criteria(spec_or_criteria)


def _episode_text(episode: ResponseEpisode) -> str:
    text = episode.first.detail
    if episode.confirmed_by is not None:
        text += f"; confirmed by {_plt_on(episode.confirmed_by)}"
    if episode.loss_detail:
        text += f"; {episode.loss_detail}"
    return text


def _pending_text(search: EpisodeSearch) -> str:
    if search.pending is None:
        return ""
    return f"; {_plt_on(search.pending)} qualified but is not confirmed"


def _reach(spec: EndpointSpec) -> str:
    """The level an endpoint asks for, in words: "R or better" or "PR" (exact match)."""
    return f"{spec.level} or better" if spec.match is LevelMatch.AT_LEAST else f"{spec.level}"


def _confirmation_text(criteria: ResponseCriteria) -> str:
    rule = criteria.confirmation
    if rule is None:
        return "no confirmation required"
    spacing = "at least" if rule.inclusive else "more than"
    return f"needs a second qualifying count {spacing} {rule.min_days} days later"


def _last_assessment_text(visits: Sequence[VisitResponse]) -> str:
    if not visits:
        return "; no assessment after day 1"
    return f"; last assessment {_plt_on(visits[-1])}"


def _plt_on(visit: VisitResponse) -> str:
    return f"PLT {_fmt(visit.platelet_count)} on {visit.date.isoformat()}"


def _fmt(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros: 24, 19.5, 100."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _join(*parts: object) -> str:
    return ".".join(str(part) for part in parts if str(part) != "")
