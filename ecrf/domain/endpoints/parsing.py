"""Parsing of the protocol file's endpoint part into typed specs, checked against the kind registry.

Errors name the key path of the protocol file (``endpoints.2.time_point``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ecrf.domain import protocol_readers as read
from ecrf.domain.diagnoses import parse_applies_to
from ecrf.domain.endpoints.criteria import (
    _KeyPaths,
    _optional,
    _parse_criteria,
    merge_criteria,
    parse_response_criteria,
)
from ecrf.domain.endpoints.registry import ENDPOINT_KEYS, Family, KindDefinition, kind_definition
from ecrf.domain.endpoints.spec import (
    _CRITERIA_KEYS,
    _LEVEL_KEYS,
    SCORES,
    SERIES_TESTS,
    AfterResponse,
    ConfirmedBy,
    EndpointSpec,
    LevelMatch,
    MciiRule,
    ResponseCriteria,
    ResponseLevel,
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
        criteria_path = read.key_path(prefix, "response_criteria")
    defaults = {} if response_criteria is None else read.mapping(response_criteria, criteria_path)
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


def _parse_endpoint(
    defaults: Mapping[str, Any], raw: object, where: str, criteria_path: str
) -> EndpointSpec:
    endpoint = read.mapping(raw, where)
    read.reject_unknown_keys(endpoint, ENDPOINT_KEYS, lambda key: f"{where}.{key}")
    code = read.text(endpoint.get("code"), f"{where}.code")
    definition = kind_definition(endpoint.get("kind"), f"{where}.kind")
    kind = definition.kind
    raw_criteria = endpoint.get("criteria")
    override = {} if raw_criteria is None else read.mapping(raw_criteria, f"{where}.criteria")
    if endpoint.get("transfusion_free_days") is not None:
        override = {**override, "transfusion_free_days": endpoint["transfusion_free_days"]}
    _reject_unknown_override_keys(override, f"{where}.criteria")
    key_paths = _KeyPaths(criteria_path, f"{where}.criteria", override)
    criteria = _parse_criteria(merge_criteria(defaults, override), key_paths)
    spec = EndpointSpec(
        code=code,
        name=read.text(endpoint.get("name", code), f"{where}.name"),
        kind=kind,
        criteria=criteria,
        level=_optional(endpoint, "level", where, read.text),
        match=read.choice(
            endpoint.get("match", LevelMatch.AT_LEAST.value), f"{where}.match", LevelMatch
        ),
        time_point=_optional(endpoint, "time_point", where, _parse_time_point),
        primary=read.boolean(endpoint.get("primary", False), f"{where}.primary"),
        duration_days=_optional(endpoint, "duration_days", where, read.integer, minimum=1),
        test_code=_optional(endpoint, "test_code", where, read.choice, SERIES_TESTS),
        score=_optional(endpoint, "score", where, read.choice, SCORES),
        mcii=_optional(endpoint, "mcii", where, _parse_mcii),
        confirmed_by=read.choice(
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
    _check_kind_keys(endpoint, definition, where)
    return _check_kind_requirements(spec, definition, where, key_paths)


def _check_kind_keys(endpoint: Mapping[str, Any], definition: KindDefinition, where: str) -> None:
    """A key the kind does not read would be silently ignored: refuse it; a key it needs, demand."""
    kind = definition.kind.value
    for key in definition.required:
        if endpoint.get(key) is None:
            raise DomainError(f"{where}.{key}", f"required for kind {kind}")
    for key, value in endpoint.items():
        if key not in definition.allowed_keys and value is not None:
            allowed = ", ".join(definition.keys)
            raise DomainError(f"{where}.{key}", f"not used by kind {kind} (its keys: {allowed})")


def _parse_after_response(
    raw: object, where: str, defaults: Mapping[str, Any], criteria_path: str
) -> AfterResponse:
    block = read.mapping(raw, where)
    read.reject_unknown_keys(block, ("level",), lambda key: f"{where}.{key}")
    level = read.text(block.get("level"), f"{where}.level")
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
    read.reject_unknown_keys(override, _CRITERIA_KEYS, lambda key: f"{where}.{key}")
    levels = override.get("levels")
    if isinstance(levels, Mapping):
        for code, level in levels.items():
            if isinstance(level, Mapping):
                level_where = f"{where}.levels.{code}"
                read.reject_unknown_keys(
                    level, _LEVEL_KEYS, lambda key, at=level_where: f"{at}.{key}"
                )


def _check_kind_requirements(
    spec: EndpointSpec, definition: KindDefinition, where: str, key_paths: _KeyPaths
) -> EndpointSpec:
    """The kind's levels exist in the criteria; fills the default level (the least stringent)."""
    kind = spec.kind
    if definition.family is not None:
        platelet_kind = definition.family is Family.PLATELET
        levels = (
            spec.criteria.platelet_levels if platelet_kind else spec.criteria.haemoglobin_levels
        )
        family = definition.family.value
        if not levels:
            raise DomainError(key_paths("levels"), f"no {family} level for kind {kind.value}")
        codes = [level.code for level in levels]
        if spec.level is not None and spec.level not in codes:
            known = ", ".join(codes)
            raise DomainError(f"{where}.level", f"unknown {family} level {spec.level!r} ({known})")
        _check_baseline_test(spec.criteria, levels, definition.family.series, key_paths)
        if platelet_kind and spec.level is None:
            spec = replace(spec, level=codes[-1])
    if spec.match is LevelMatch.EXACTLY and not definition.exact_match:
        raise DomainError(f"{where}.match", f"kind {kind.value} counts a level or better only")
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


def _parse_time_point(raw: object, where: str) -> TimePoint:
    time_point = read.mapping(raw, where)
    keys = ("day", "window_before", "window_after")
    read.reject_unknown_keys(time_point, keys, lambda key: f"{where}.{key}")
    return TimePoint(
        day=read.integer(time_point.get("day"), f"{where}.day", minimum=0),
        window_before=read.integer(
            time_point.get("window_before", 0), f"{where}.window_before", minimum=0
        ),
        window_after=read.integer(
            time_point.get("window_after", 0), f"{where}.window_after", minimum=0
        ),
    )


def _parse_mcii(raw: object, where: str) -> MciiRule:
    mcii = read.mapping(raw, where)
    read.reject_unknown_keys(mcii, ("absolute_drop", "relative_drop"), lambda key: f"{where}.{key}")
    absolute = read.optional(mcii.get("absolute_drop"), f"{where}.absolute_drop", read.decimal)
    relative = read.optional(mcii.get("relative_drop"), f"{where}.relative_drop", read.decimal)
    if absolute is None and relative is None:
        raise DomainError(where, "give absolute_drop, relative_drop or both")
    if absolute is not None and absolute < 0:
        raise DomainError(f"{where}.absolute_drop", "must not be negative")
    if relative is not None and not Decimal(0) < relative <= Decimal(1):
        raise DomainError(f"{where}.relative_drop", "is a fraction of baseline (0.15 = 15%)")
    return MciiRule(absolute, relative)
