"""Reading a protocol file: validation and resolution of amendments into full versions.

A protocol file holds the study (registry id, title, design...), its sites, arms and
randomization scheme, and a list of protocol versions. Version 1 states the whole protocol
content; every later version states only its `changes` (upsert items by code, remove codes, or
replace a whole block). `resolve_protocol` returns the full content of every version, each with
a content hash, so that a loader can tell an unchanged file from an amended or edited one.

Every problem raises `DomainError(field, message)` with the dotted key path at fault, e.g.
``versions.0.eligibility.3.rule.unit``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from ecrf.domain import protocol_readers as read
from ecrf.domain.errors import DomainError
from ecrf.domain.protocol_content import EndpointValidator, RuleValidator, validated_content

REGISTRY_ID = re.compile(r"^NCT\d{8}$")

STUDY_KEYS = {
    "registry_id": True,
    "title": True,
    "short_title": True,
    "phase": True,
    "design": True,
    "masking": False,
    "status": True,
    "ctcae_version": True,
    "target_enrollment": True,
    "conditions": False,
    "sponsor": False,
    "other_ids": False,
    "start_date": False,
    "sites": True,
    "arms": True,
    "randomization": False,
    "versions": True,
}
DESIGNS = ("randomized", "single_arm")
STATUSES = ("not_yet_recruiting", "recruiting", "active_not_recruiting", "completed")
ARM_TYPES = ("experimental", "active_comparator", "single")

# Sections of a version whose items are identified by `code` (amendments upsert/remove them).
ITEM_SECTIONS = (
    "visits",
    "eligibility",
    "regimens",
    "endpoints",
    "assumptions",
    "diagnoses",
    "edit_checks",
)
# Sections replaced as a whole by an amendment.
BLOCK_SECTIONS = ("response_criteria", "ctcae", "sdv_plan")


@dataclass(frozen=True)
class ResolvedVersion:
    number: int
    label: str
    effective_date: dt.date
    summary: str
    content: dict[str, Any]
    content_hash: str


@dataclass(frozen=True)
class ProtocolSpec:
    study: dict[str, Any]
    sites: list[dict[str, Any]]
    arms: list[dict[str, Any]]
    randomization: dict[str, Any] | None
    versions: list[ResolvedVersion]

    @property
    def registry_id(self) -> str:
        return self.study["registry_id"]


def resolve_protocol(
    document: Any,
    *,
    validate_rule: RuleValidator | None = None,
    validate_endpoints: EndpointValidator | None = None,
) -> ProtocolSpec:
    if not isinstance(document, dict):
        raise DomainError("(top level)", "a protocol file must be a mapping of keys to values")
    read.check_keys(document, STUDY_KEYS, "")
    study = _study_fields(document)
    sites = _sites(document["sites"])
    arms = _arms(document["arms"], study["design"])
    randomization = _randomization(document.get("randomization"), study["design"], arms)
    arm_codes = {a["code"] for a in arms}
    versions = _versions(document["versions"], arm_codes, validate_rule, validate_endpoints)
    return ProtocolSpec(study, sites, arms, randomization, versions)


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- study level --------------------------------------------------------------------------------


def _study_fields(document: dict) -> dict[str, Any]:
    registry_id = read.field(document, "registry_id", "", read.text)
    if not REGISTRY_ID.match(registry_id):
        raise DomainError("registry_id", "must be a ClinicalTrials.gov id such as NCT01234567")
    conditions = document.get("conditions", [])
    if not isinstance(conditions, list) or not all(isinstance(c, str) for c in conditions):
        raise DomainError("conditions", "must be a list of texts")
    other_ids = document.get("other_ids", [])
    if not isinstance(other_ids, list):
        raise DomainError("other_ids", "must be a list")
    start = read.field(document, "start_date", "", read.date, default=None)
    return {
        "registry_id": registry_id,
        "title": read.field(document, "title", "", read.text),
        "short_title": read.field(document, "short_title", "", read.text),
        "phase": str(document["phase"]).strip(),
        "design": read.field(document, "design", "", read.choice, DESIGNS),
        "masking": read.field(document, "masking", "", read.text, default="") or "open_label",
        "status": read.field(document, "status", "", read.choice, STATUSES),
        "ctcae_version": str(document["ctcae_version"]).strip(),
        "target_enrollment": read.field(document, "target_enrollment", "", read.integer, minimum=1),
        "conditions": conditions,
        "sponsor": read.field(document, "sponsor", "", read.text, default=""),
        "other_ids": [str(i) for i in other_ids],
        "start_date": start,
    }


def _sites(value: Any) -> list[dict[str, Any]]:
    sites = []
    for index, raw in enumerate(read.list_of_mappings(value, "sites")):
        prefix = read.key_path("sites", index)
        read.check_keys(raw, {"code": True, "name": True, "city": False, "country": False}, prefix)
        sites.append(
            {
                "code": read.code(raw.get("code"), read.key_path(prefix, "code")),
                "name": read.field(raw, "name", prefix, read.text),
                "city": read.field(raw, "city", prefix, read.text, default=""),
                "country": read.field(raw, "country", prefix, read.text, default=""),
            }
        )
    read.unique_codes(sites, "sites")
    return sites


def _arms(value: Any, design: str) -> list[dict[str, Any]]:
    arms = []
    allowed = {"code": True, "name": True, "type": True, "ratio": False, "description": False}
    for index, raw in enumerate(read.list_of_mappings(value, "arms")):
        prefix = read.key_path("arms", index)
        read.check_keys(raw, allowed, prefix)
        arms.append(
            {
                "code": read.code(raw.get("code"), read.key_path(prefix, "code")),
                "name": read.field(raw, "name", prefix, read.text),
                "type": read.field(raw, "type", prefix, read.choice, ARM_TYPES),
                "ratio": read.field(raw, "ratio", prefix, read.integer, minimum=1, default=1),
                "description": read.field(raw, "description", prefix, read.text, default=""),
            }
        )
    read.unique_codes(arms, "arms")
    if design == "single_arm" and len(arms) != 1:
        raise DomainError("arms", "a single-arm study has exactly one arm")
    if design == "randomized" and len(arms) < 2:
        raise DomainError("arms", "a randomized study needs at least two arms")
    return arms


def _randomization(value: Any, design: str, arms: list[dict]) -> dict[str, Any] | None:
    if design == "single_arm":
        if value not in (None, {}):
            raise DomainError("randomization", "a single-arm study is not randomized")
        return None
    if not isinstance(value, dict):
        raise DomainError("randomization", "is required for a randomized study")
    allowed = {"strata": False, "factors": False, "block_sizes": True}
    read.check_keys(value, allowed, "randomization")
    block_sizes = value["block_sizes"]
    if not isinstance(block_sizes, list) or not block_sizes:
        raise DomainError("randomization.block_sizes", "must be a non-empty list of numbers")
    ratio_sum = sum(a["ratio"] for a in arms)
    for index, size in enumerate(block_sizes):
        if isinstance(size, bool) or not isinstance(size, int) or size % ratio_sum:
            raise DomainError(
                f"randomization.block_sizes.{index}",
                f"must be a whole multiple of the allocation ratio sum ({ratio_sum})",
            )
    strata = value.get("strata", ["site"])
    if strata != ["site"]:
        raise DomainError("randomization.strata", "must be [site]; add other factors under factors")
    factors = []
    for index, raw in enumerate(
        read.list_of_mappings(value.get("factors", []), "randomization.factors")
    ):
        prefix = f"randomization.factors.{index}"
        read.check_keys(raw, {"name": True, "levels": True}, prefix)
        levels = raw["levels"]
        if not isinstance(levels, list) or len(levels) < 2:
            raise DomainError(read.key_path(prefix, "levels"), "must list at least two levels")
        factors.append(
            {
                "name": read.code(raw["name"], read.key_path(prefix, "name")),
                "levels": [str(x) for x in levels],
            }
        )
    return {"strata": ["site"], "factors": factors, "block_sizes": block_sizes}


# --- versions ----------------------------------------------------------------------------------


def _versions(
    value: Any,
    arm_codes: set[str],
    validate_rule: RuleValidator | None,
    validate_endpoints: EndpointValidator | None,
) -> list[ResolvedVersion]:
    raw_versions = read.list_of_mappings(value, "versions")
    resolved: list[ResolvedVersion] = []
    # Amendments apply to the content as written (raw); each result is then validated.
    raw_content: dict[str, Any] = {}
    for index, raw in enumerate(raw_versions):
        prefix = read.key_path("versions", index)
        number = read.field(raw, "number", prefix, read.integer, minimum=1)
        if number != index + 1:
            raise DomainError(
                read.key_path(prefix, "number"),
                f"versions must be numbered 1, 2, ... ({index + 1} expected)",
            )
        if index == 0:
            allowed = {k: False for k in (*ITEM_SECTIONS, *BLOCK_SECTIONS, "visit_series")}
            allowed |= {"number": True, "effective_date": True, "summary": True, "label": False}
            read.check_keys(raw, allowed, prefix)
            raw_content = _first_content(raw, prefix)
        else:
            read.check_keys(
                raw,
                {
                    "number": True,
                    "effective_date": True,
                    "summary": True,
                    "label": False,
                    "changes": True,
                },
                prefix,
            )
            raw_content = _apply_changes(
                raw_content, raw["changes"], read.key_path(prefix, "changes")
            )
        content = validated_content(
            raw_content, prefix, arm_codes, validate_rule, validate_endpoints
        )
        effective = read.field(raw, "effective_date", prefix, read.date)
        if resolved and effective < resolved[-1].effective_date:
            raise DomainError(
                read.key_path(prefix, "effective_date"), "must not be before the previous version's"
            )
        resolved.append(
            ResolvedVersion(
                number=number,
                label=str(raw.get("label") or number),
                effective_date=effective,
                summary=read.field(raw, "summary", prefix, read.text),
                content=content,
                content_hash=content_hash(content),
            )
        )
    return resolved


def _first_content(raw: dict, prefix: str) -> dict[str, Any]:
    content: dict[str, Any] = {}
    visits = list(read.list_of_mappings(raw.get("visits", []), read.key_path(prefix, "visits")))
    for s_index, series in enumerate(
        read.list_of_mappings(raw.get("visit_series", []), read.key_path(prefix, "visit_series"))
    ):
        visits.extend(_expand_series(series, read.key_path(prefix, "visit_series", s_index)))
    content["visits"] = visits
    for section in (
        "eligibility",
        "regimens",
        "endpoints",
        "assumptions",
        "diagnoses",
        "edit_checks",
    ):
        content[section] = copy.deepcopy(
            read.list_of_mappings(raw.get(section, []), read.key_path(prefix, section))
        )
    content["response_criteria"] = copy.deepcopy(raw.get("response_criteria"))
    content["ctcae"] = copy.deepcopy(raw.get("ctcae") or {})
    content["sdv_plan"] = copy.deepcopy(raw.get("sdv_plan"))
    return content


def _expand_series(series: dict, prefix: str) -> list[dict]:
    """`{prefix: W, unit_name: Week, unit_days: 7, start: 6, stop: 26, step: 2, window: 3}`
    becomes visits W6, W8 ... W26 on days 42, 56 ... 182 after day 1."""
    allowed = {
        "prefix": True,
        "unit_name": True,
        "unit_days": True,
        "start": True,
        "stop": True,
        "step": False,
        "window": False,
        "window_before": False,
        "window_after": False,
    }
    read.check_keys(series, allowed, prefix)
    unit_days = read.field(series, "unit_days", prefix, read.integer, minimum=1)
    start = read.field(series, "start", prefix, read.integer, minimum=1)
    stop = read.field(series, "stop", prefix, read.integer, minimum=start)
    step = read.field(series, "step", prefix, read.integer, minimum=1, default=1)
    window = read.field(series, "window", prefix, read.integer, minimum=0, default=0)
    before = read.field(series, "window_before", prefix, read.integer, minimum=0, default=window)
    after = read.field(series, "window_after", prefix, read.integer, minimum=0, default=window)
    code_prefix = read.field(series, "prefix", prefix, read.text)
    unit_name = read.field(series, "unit_name", prefix, read.text)
    return [
        {
            "code": f"{code_prefix}{n}",
            "name": f"{unit_name} {n}",
            "day_offset": n * unit_days,
            "window_before": before,
            "window_after": after,
        }
        for n in range(start, stop + 1, step)
    ]


def _apply_changes(content: dict[str, Any], changes: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(changes, dict) or not changes:
        raise DomainError(prefix, "must say what the amendment changes")
    updated = copy.deepcopy(content)
    for section, change in changes.items():
        section_path = read.key_path(prefix, section)
        if section in BLOCK_SECTIONS:
            updated[section] = copy.deepcopy(change)
            continue
        if section not in ITEM_SECTIONS:
            raise DomainError(
                section_path,
                f"unknown section (allowed: {', '.join(ITEM_SECTIONS + BLOCK_SECTIONS)})",
            )
        if not isinstance(change, dict):
            raise DomainError(section_path, "must be a mapping with upsert and/or remove")
        read.check_keys(change, {"upsert": False, "remove": False}, section_path)
        items = updated[section]
        for code in change.get("remove", []) or []:
            if not any(item.get("code") == code for item in items):
                raise DomainError(
                    read.key_path(section_path, "remove"), f"no {section} item with code {code!r}"
                )
            items = [item for item in items if item.get("code") != code]
        for index, item in enumerate(
            read.list_of_mappings(
                change.get("upsert", []) or [], read.key_path(section_path, "upsert")
            )
        ):
            read.code(
                item.get("code"),
                read.key_path(read.key_path(section_path, "upsert", index), "code"),
            )
            positions = [
                i for i, existing in enumerate(items) if existing.get("code") == item["code"]
            ]
            if positions:
                items[positions[0]] = copy.deepcopy(item)
            else:
                items.append(copy.deepcopy(item))
        updated[section] = items
    return updated
