"""The risk-based source data verification plan of a protocol version (ICH E6(R3)).

Declared in a version's `sdv_plan` section:

    sdv_plan:
      all:                                   # every such record must be verified
        - {resource: lab-results, test_codes: [PLAT]}     # primary-endpoint data
        - {resource: adverse-events, serious: true}       # serious adverse events
        - {resource: patients}
      sample:                                # a deterministic sample of the rest
        resources: [lab-results, vital-signs]
        fraction: 0.2
        seed: 7

`parse_sdv_plan` validates it (an error names its path); `required_records` says, over plain
facts of the records, which ones must be verified. The sample is decided record by record from
a SHA-256 of (seed, resource, record id): the same record is in or out whatever else exists, so
the plan's answer never changes when other records are added.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ecrf.domain.errors import DomainError

# The resources (named as the API's paths) a plan may name.
PLAN_RESOURCES = (
    "adverse-events",
    "bleeding-assessments",
    "dose-records",
    "ecog-assessments",
    "essdai-assessments",
    "esspri-assessments",
    "lab-results",
    "patients",
    "rescue-therapies",
    "visits",
    "vital-signs",
)
# Filters a rule of `all` may add, by resource.
RULE_FILTERS = {"lab-results": "test_codes", "adverse-events": "serious"}


@dataclass(frozen=True)
class RecordFact:
    """One record as the plan sees it: `test_code` for a lab result, `serious` for an AE."""

    resource: str
    record_id: int
    test_code: str = ""
    serious: bool = False


def _path(prefix: str, *keys: str | int) -> str:
    return ".".join([prefix, *map(str, keys)]) if prefix else ".".join(map(str, keys))


def _resource(value: Any, path: str) -> str:
    if value not in PLAN_RESOURCES:
        raise DomainError(path, f"must be one of {', '.join(PLAN_RESOURCES)}")
    return value


def _rule(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DomainError(path, "must be a mapping with a resource")
    resource = _resource(raw.get("resource"), _path(path, "resource"))
    allowed = {"resource", RULE_FILTERS.get(resource, "resource")}
    for key in raw:
        if key not in allowed:
            raise DomainError(
                _path(path, key), f"unknown key (allowed: {', '.join(sorted(allowed))})"
            )
    rule: dict[str, Any] = {"resource": resource}
    if "test_codes" in raw:
        codes = raw["test_codes"]
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            raise DomainError(_path(path, "test_codes"), "must be a non-empty list of test codes")
        rule["test_codes"] = sorted(set(codes))
    if "serious" in raw:
        if raw["serious"] is not True:
            raise DomainError(_path(path, "serious"), "must be true (or left out)")
        rule["serious"] = True
    return rule


def _fraction(raw: Any, path: str) -> str:
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise DomainError(path, "must be a number between 0 and 1") from exc
    if not value.is_finite() or not Decimal(0) < value <= Decimal(1):
        raise DomainError(path, "must be a number between 0 (excluded) and 1")
    return str(value)


def parse_sdv_plan(raw: Any, prefix: str = "sdv_plan") -> dict[str, Any] | None:
    """The validated plan (None when not declared)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        raise DomainError(prefix, "must be a mapping with `all` and/or `sample`")
    for key in raw:
        if key not in ("all", "sample"):
            raise DomainError(_path(prefix, key), "unknown key (allowed: all, sample)")
    plan: dict[str, Any] = {"all": [], "sample": None}
    rules = raw.get("all", [])
    if not isinstance(rules, list):
        raise DomainError(_path(prefix, "all"), "must be a list of rules")
    plan["all"] = [_rule(rule, _path(prefix, "all", i)) for i, rule in enumerate(rules)]
    sample = raw.get("sample")
    if sample is not None:
        path = _path(prefix, "sample")
        if not isinstance(sample, dict):
            raise DomainError(path, "must be a mapping with resources, fraction and seed")
        for key in sample:
            if key not in ("resources", "fraction", "seed"):
                raise DomainError(
                    _path(path, key), "unknown key (allowed: fraction, resources, seed)"
                )
        resources = sample.get("resources")
        if not isinstance(resources, list) or not resources:
            raise DomainError(_path(path, "resources"), "must be a non-empty list of resources")
        names = [_resource(name, _path(path, "resources", i)) for i, name in enumerate(resources)]
        seed = sample.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise DomainError(_path(path, "seed"), "must be an integer")
        plan["sample"] = {
            "resources": sorted(set(names)),
            "fraction": _fraction(sample.get("fraction"), _path(path, "fraction")),
            "seed": seed,
        }
    if not plan["all"] and plan["sample"] is None:
        raise DomainError(prefix, "must require something (`all` rules or a `sample`)")
    return plan


def planned_resources(plan: dict[str, Any] | None) -> set[str]:
    if not plan:
        return set()
    names = {rule["resource"] for rule in plan["all"]}
    if plan["sample"]:
        names |= set(plan["sample"]["resources"])
    return names


def _matches(rule: dict[str, Any], fact: RecordFact) -> bool:
    if rule["resource"] != fact.resource:
        return False
    if "test_codes" in rule and fact.test_code not in rule["test_codes"]:
        return False
    return not (rule.get("serious") and not fact.serious)


def in_sample(seed: int, resource: str, record_id: int, fraction: str) -> bool:
    """Deterministic: the first 8 bytes of SHA-256("seed:resource:id") over 2**64 < fraction."""
    digest = hashlib.sha256(f"{seed}:{resource}:{record_id}".encode()).digest()
    draw = Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)
    return draw < Decimal(fraction)


def required_records(plan: dict[str, Any] | None, facts: list[RecordFact]) -> set[tuple[str, int]]:
    """(resource, record id) of every record the plan says must be verified."""
    if not plan:
        return set()
    required = set()
    sample = plan["sample"]
    for fact in facts:
        sampled = (
            sample is not None
            and fact.resource in sample["resources"]
            and in_sample(sample["seed"], fact.resource, fact.record_id, sample["fraction"])
        )
        if sampled or any(_matches(rule, fact) for rule in plan["all"]):
            required.add((fact.resource, fact.record_id))
    return required
