"""Parsing of a response criteria block (levels, baseline, bleeding, rescue, confirmation, loss).

Errors name the key path of the protocol file (``endpoints.2.criteria.levels.R.rank``); an
endpoint's criteria are deep-merged over the protocol's ``response_criteria``, and an error in a
merged value names the block that wrote it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ecrf.domain import protocol_readers as read
from ecrf.domain.endpoints.spec import (
    _CRITERIA_KEYS,
    _LEVEL_KEYS,
    _OPERATORS,
    NON_RESPONSE,
    SERIES_TESTS,
    BaselineRule,
    BleedingRule,
    ConfirmationRule,
    LossRule,
    RescueRule,
    ResponseCriteria,
    ResponseLevel,
    Threshold,
)
from ecrf.domain.errors import DomainError


def parse_response_criteria(
    criteria: Mapping[str, Any], *, path: str = "response_criteria"
) -> ResponseCriteria:
    """Parse one (already merged) criteria block."""
    return _parse_criteria(read.mapping(criteria, path), _KeyPaths(path))


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
            return read.key_path(self.override_path, *keys)
        return read.key_path(self.base_path, *keys)


def _supplies(override: Mapping[str, Any], keys: Sequence[object]) -> bool:
    node: Any = override
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
        if not isinstance(node, Mapping):
            return True  # the override replaced this whole subtree
    return True


def _parse_criteria(raw: Mapping[str, Any], where: _KeyPaths) -> ResponseCriteria:
    read.reject_unknown_keys(raw, _CRITERIA_KEYS, where)
    levels_raw = read.mapping(raw.get("levels") or {}, where("levels"))
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
        transfusion_free_days=read.optional(
            raw.get("transfusion_free_days"),
            where("transfusion_free_days"),
            read.integer,
            minimum=0,
        ),
    )


def _parse_level(code: object, raw: object, where: _KeyPaths) -> ResponseLevel:
    code_text = read.text(code, where("levels", code))
    if code_text == NON_RESPONSE:
        raise DomainError(where("levels", code), f"{NON_RESPONSE} is reserved for non-response")
    level = read.mapping(raw, where("levels", code))
    read.reject_unknown_keys(level, _LEVEL_KEYS, lambda key: where("levels", code, key))

    def threshold(key: str) -> Threshold | None:
        return read.optional(level.get(key), where("levels", code, key), _parse_threshold)

    fold_raw = level.get("fold_of_baseline")
    fold_where = where("levels", code, "fold_of_baseline")
    fold = None
    if fold_raw is not None:
        if isinstance(fold_raw, Mapping):
            fold = _parse_threshold(fold_raw, fold_where)
        else:
            fold = Threshold(">=", read.decimal(fold_raw, fold_where))
        if fold.value <= 0:
            raise DomainError(fold_where, "the multiple of baseline must be positive")
    if level.get("rank") is None:
        # Named in the block that defines the level, which lacks the rank.
        raise DomainError(
            read.key_path(where("levels", code), "rank"),
            "required: the level's rank, 1 for the best level (key order carries no meaning)",
        )
    parsed = ResponseLevel(
        code=code_text,
        rank=read.integer(level["rank"], where("levels", code, "rank"), minimum=1),
        platelets=threshold("platelets"),
        platelets_max=threshold("platelets_max"),
        fold_of_baseline=fold,
        hb=threshold("hb"),
        hb_max=threshold("hb_max"),
        rise_from_baseline=threshold("rise_from_baseline"),
        combine=read.choice(
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
    threshold = read.mapping(raw, where)
    read.reject_unknown_keys(threshold, ("op", "value"), lambda key: f"{where}.{key}")
    op = read.choice(threshold.get("op"), f"{where}.op", tuple(_OPERATORS))
    return Threshold(op, read.decimal(threshold.get("value"), f"{where}.value"))


def _parse_baseline(raw: Mapping[str, Any], where: Callable[..., str]) -> BaselineRule:
    read.reject_unknown_keys(raw, ("test_code", "window_days"), lambda key: where(key))
    return BaselineRule(
        test_code=read.choice(raw.get("test_code"), where("test_code"), SERIES_TESTS),
        window_days=read.optional(
            raw.get("window_days"), where("window_days"), read.integer, minimum=0
        ),
    )


def _parse_bleeding(raw: Mapping[str, Any], where: Callable[..., str]) -> BleedingRule:
    read.reject_unknown_keys(raw, ("min_who_grade", "window_days"), lambda key: where(key))
    grade = read.integer(raw.get("min_who_grade", 1), where("min_who_grade"), minimum=0)
    if grade > 4:
        raise DomainError(where("min_who_grade"), f"WHO bleeding grades are 0–4, not {grade}")
    return BleedingRule(
        grade, read.integer(raw.get("window_days", 0), where("window_days"), minimum=0)
    )


def _parse_rescue(raw: Mapping[str, Any], where: Callable[..., str]) -> RescueRule:
    keys = ("lookback_days", "itp_directed_only", "since_start")
    read.reject_unknown_keys(raw, keys, lambda key: where(key))
    since_start = read.boolean(raw.get("since_start", False), where("since_start"))
    lookback = read.optional(
        raw.get("lookback_days"), where("lookback_days"), read.integer, minimum=0
    )
    if lookback is None and not since_start:
        raise DomainError(where("lookback_days"), "required unless since_start is true")
    return RescueRule(
        lookback_days=lookback,
        itp_directed_only=read.boolean(
            raw.get("itp_directed_only", True), where("itp_directed_only")
        ),
        since_start=since_start,
    )


def _parse_confirmation(
    raw: Mapping[str, Any], where: Callable[..., str]
) -> ConfirmationRule | None:
    read.reject_unknown_keys(raw, ("required", "min_days", "inclusive"), lambda key: where(key))
    if not read.boolean(raw.get("required", True), where("required")):
        return None
    return ConfirmationRule(
        min_days=read.integer(raw.get("min_days"), where("min_days"), minimum=0),
        inclusive=read.boolean(raw.get("inclusive", False), where("inclusive")),
    )


def _parse_loss(raw: Mapping[str, Any], where: Callable[..., str]) -> LossRule:
    keys = ("confirmations", "min_days", "inclusive", "bleeding")
    read.reject_unknown_keys(raw, keys, lambda key: where(key))
    return LossRule(
        confirmations=read.integer(raw.get("confirmations"), where("confirmations"), minimum=1),
        min_days=read.integer(raw.get("min_days", 0), where("min_days"), minimum=0),
        inclusive=read.boolean(raw.get("inclusive", False), where("inclusive")),
        bleeding=read.boolean(raw.get("bleeding", True), where("bleeding")),
    )


def _sub(raw: Mapping[str, Any], key: str, where: _KeyPaths, parse: Callable[..., Any]) -> Any:
    """Parse an optional rule block; None (absent or nulled) means the rule does not apply."""
    value = raw.get(key)
    if value is None:
        return None
    block = read.mapping(value, where(key))
    return parse(block, lambda *keys: where(key, *keys))


def _optional(
    raw: Mapping[str, Any], key: str, where: str, parse: Callable[..., Any], *args: Any, **kw: Any
) -> Any:
    return read.optional(raw.get(key), f"{where}.{key}", parse, *args, **kw)
