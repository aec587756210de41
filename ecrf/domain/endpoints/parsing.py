"""Parsing of the protocol file's endpoint part into typed specs.

Errors name the key path of the protocol file (``endpoints.2.criteria.levels.R.rank``); an
endpoint's criteria are deep-merged over the protocol's ``response_criteria``, and an error in a
merged value names the block that wrote it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from ecrf.domain.diagnoses import parse_applies_to
from ecrf.domain.endpoints.formatting import _join
from ecrf.domain.endpoints.spec import (
    _CRITERIA_KEYS,
    _ENDPOINT_KEYS,
    _LEVEL_KEYS,
    _OPERATORS,
    EXACT_MATCH_UNSUPPORTED,
    NON_RESPONSE,
    PLATELET_KINDS,
    SCORES,
    SERIES_TESTS,
    TIME_POINT_REQUIRED,
    AfterResponse,
    BaselineRule,
    BleedingRule,
    ConfirmationRule,
    ConfirmedBy,
    EndpointKind,
    EndpointSpec,
    LevelMatch,
    LossRule,
    MciiRule,
    RescueRule,
    ResponseCriteria,
    ResponseLevel,
    Threshold,
    TimePoint,
)
from ecrf.domain.errors import DomainError


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
    if endpoint.get("applies_to_diagnoses") is not None:
        where_applies = f"{where}.applies_to_diagnoses"
        applies_to = parse_applies_to(endpoint["applies_to_diagnoses"], where_applies)
        spec = replace(spec, applies_to_diagnoses=applies_to)
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
