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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ecrf.domain.assumptions import validated_assumptions
from ecrf.domain.edit_checks import parse_edit_checks
from ecrf.domain.errors import DomainError

REGISTRY_ID = re.compile(r"^NCT\d{8}$")
CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

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
DESIGNS = {"randomized", "single_arm"}
STATUSES = {"not_yet_recruiting", "recruiting", "active_not_recruiting", "completed"}
ARM_TYPES = {"experimental", "active_comparator", "single"}
DOSE_BASES = {"fixed", "mg_per_kg", "mg_per_m2"}
DOSE_PERIODS = {"administration", "day"}
BSA_FORMULAS = {"mosteller", "dubois"}
WEIGHT_BASES = {"baseline", "latest"}
CRITERION_KINDS = {"inclusion", "exclusion"}

# Sections of a version whose items are identified by `code` (amendments upsert/remove them).
ITEM_SECTIONS = ("visits", "eligibility", "regimens", "endpoints", "assumptions", "edit_checks")
# Sections replaced as a whole by an amendment.
BLOCK_SECTIONS = ("response_criteria", "ctcae")


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


# Validators of the parts owned by other domain modules, plugged in by the caller so that this
# module stays independent of them (each raises DomainError with the path it is given).
RuleValidator = Callable[[dict, str], None]
EndpointValidator = Callable[[dict | None, list[dict], str], None]


def resolve_protocol(
    document: Any,
    *,
    validate_rule: RuleValidator | None = None,
    validate_endpoints: EndpointValidator | None = None,
) -> ProtocolSpec:
    if not isinstance(document, dict):
        raise DomainError("(top level)", "a protocol file must be a mapping of keys to values")
    _check_keys(document, STUDY_KEYS, "")
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


# --- small checkers ---------------------------------------------------------------------------


def _path(prefix: str, key: str | int) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _check_keys(mapping: dict, allowed: dict[str, bool], prefix: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise DomainError(
                _path(prefix, key), f"unknown key (allowed: {', '.join(sorted(allowed))})"
            )
    for key, required in allowed.items():
        if required and mapping.get(key) in (None, "", []):
            raise DomainError(_path(prefix, key), "is required")


def _text(mapping: dict, key: str, prefix: str, *, required: bool = True) -> str:
    value = mapping.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise DomainError(_path(prefix, key), "must be a non-empty text")
    return value.strip()


def _choice(mapping: dict, key: str, choices: set[str], prefix: str, default=None) -> str:
    value = mapping.get(key, default)
    if value not in choices:
        raise DomainError(_path(prefix, key), f"must be one of {', '.join(sorted(choices))}")
    return value


def _int(mapping: dict, key: str, prefix: str, *, minimum: int | None = None, default=None):
    value = mapping.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(_path(prefix, key), "must be a whole number")
    if minimum is not None and value < minimum:
        raise DomainError(_path(prefix, key), f"must be at least {minimum}")
    return value


def _decimal(mapping: dict, key: str, prefix: str, *, required: bool = True) -> str | None:
    value = mapping.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool):
        raise DomainError(_path(prefix, key), "must be a number")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_path(prefix, key), "must be a number") from exc
    if not number.is_finite() or number < 0:
        raise DomainError(_path(prefix, key), "must be a non-negative number")
    return str(number)


def _date(mapping: dict, key: str, prefix: str, *, required: bool = True) -> dt.date | None:
    value = mapping.get(key)
    if value is None and not required:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise DomainError(_path(prefix, key), "must be a date (YYYY-MM-DD)")


def _code(mapping: dict, prefix: str) -> str:
    code = mapping.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        raise DomainError(
            _path(prefix, "code"), "must start with a letter and hold only letters, digits and _"
        )
    return code


def _list_of_mappings(value: Any, prefix: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise DomainError(prefix, "must be a list of mappings")
    return value


def _unique_codes(items: list[dict], prefix: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        code = item["code"]
        if code in seen:
            raise DomainError(_path(_path(prefix, index), "code"), f"duplicate code {code!r}")
        seen.add(code)


# --- study level --------------------------------------------------------------------------------


def _study_fields(document: dict) -> dict[str, Any]:
    registry_id = _text(document, "registry_id", "")
    if not REGISTRY_ID.match(registry_id):
        raise DomainError("registry_id", "must be a ClinicalTrials.gov id such as NCT01234567")
    conditions = document.get("conditions", [])
    if not isinstance(conditions, list) or not all(isinstance(c, str) for c in conditions):
        raise DomainError("conditions", "must be a list of texts")
    other_ids = document.get("other_ids", [])
    if not isinstance(other_ids, list):
        raise DomainError("other_ids", "must be a list")
    start = _date(document, "start_date", "", required=False)
    return {
        "registry_id": registry_id,
        "title": _text(document, "title", ""),
        "short_title": _text(document, "short_title", ""),
        "phase": str(document["phase"]).strip(),
        "design": _choice(document, "design", DESIGNS, ""),
        "masking": _text(document, "masking", "", required=False) or "open_label",
        "status": _choice(document, "status", STATUSES, ""),
        "ctcae_version": str(document["ctcae_version"]).strip(),
        "target_enrollment": _int(document, "target_enrollment", "", minimum=1),
        "conditions": conditions,
        "sponsor": _text(document, "sponsor", "", required=False),
        "other_ids": [str(i) for i in other_ids],
        "start_date": start,
    }


def _sites(value: Any) -> list[dict[str, Any]]:
    sites = []
    for index, raw in enumerate(_list_of_mappings(value, "sites")):
        prefix = _path("sites", index)
        _check_keys(raw, {"code": True, "name": True, "city": False, "country": False}, prefix)
        sites.append(
            {
                "code": _code(raw, prefix),
                "name": _text(raw, "name", prefix),
                "city": _text(raw, "city", prefix, required=False),
                "country": _text(raw, "country", prefix, required=False),
            }
        )
    _unique_codes(sites, "sites")
    return sites


def _arms(value: Any, design: str) -> list[dict[str, Any]]:
    arms = []
    allowed = {"code": True, "name": True, "type": True, "ratio": False, "description": False}
    for index, raw in enumerate(_list_of_mappings(value, "arms")):
        prefix = _path("arms", index)
        _check_keys(raw, allowed, prefix)
        arms.append(
            {
                "code": _code(raw, prefix),
                "name": _text(raw, "name", prefix),
                "type": _choice(raw, "type", ARM_TYPES, prefix),
                "ratio": _int(raw, "ratio", prefix, minimum=1, default=1),
                "description": _text(raw, "description", prefix, required=False),
            }
        )
    _unique_codes(arms, "arms")
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
    _check_keys(value, allowed, "randomization")
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
        _list_of_mappings(value.get("factors", []), "randomization.factors")
    ):
        prefix = f"randomization.factors.{index}"
        _check_keys(raw, {"name": True, "levels": True}, prefix)
        levels = raw["levels"]
        if not isinstance(levels, list) or len(levels) < 2:
            raise DomainError(_path(prefix, "levels"), "must list at least two levels")
        factors.append(
            {"name": _code({"code": raw["name"]}, prefix), "levels": [str(x) for x in levels]}
        )
    return {"strata": ["site"], "factors": factors, "block_sizes": block_sizes}


# --- versions ----------------------------------------------------------------------------------


def _versions(
    value: Any,
    arm_codes: set[str],
    validate_rule: RuleValidator | None,
    validate_endpoints: EndpointValidator | None,
) -> list[ResolvedVersion]:
    raw_versions = _list_of_mappings(value, "versions")
    resolved: list[ResolvedVersion] = []
    # Amendments apply to the content as written (raw); each result is then validated.
    raw_content: dict[str, Any] = {}
    for index, raw in enumerate(raw_versions):
        prefix = _path("versions", index)
        number = _int(raw, "number", prefix, minimum=1)
        if number != index + 1:
            raise DomainError(
                _path(prefix, "number"),
                f"versions must be numbered 1, 2, ... ({index + 1} expected)",
            )
        if index == 0:
            allowed = {k: False for k in (*ITEM_SECTIONS, *BLOCK_SECTIONS, "visit_series")}
            allowed |= {"number": True, "effective_date": True, "summary": True, "label": False}
            _check_keys(raw, allowed, prefix)
            raw_content = _first_content(raw, prefix)
        else:
            _check_keys(
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
            raw_content = _apply_changes(raw_content, raw["changes"], _path(prefix, "changes"))
        content = _validated_content(
            raw_content, prefix, arm_codes, validate_rule, validate_endpoints
        )
        effective = _date(raw, "effective_date", prefix)
        if resolved and effective < resolved[-1].effective_date:
            raise DomainError(
                _path(prefix, "effective_date"), "must not be before the previous version's"
            )
        resolved.append(
            ResolvedVersion(
                number=number,
                label=str(raw.get("label") or number),
                effective_date=effective,
                summary=_text(raw, "summary", prefix),
                content=content,
                content_hash=content_hash(content),
            )
        )
    return resolved


def _first_content(raw: dict, prefix: str) -> dict[str, Any]:
    content: dict[str, Any] = {}
    visits = list(_list_of_mappings(raw.get("visits", []), _path(prefix, "visits")))
    for s_index, series in enumerate(
        _list_of_mappings(raw.get("visit_series", []), _path(prefix, "visit_series"))
    ):
        visits.extend(_expand_series(series, _path(_path(prefix, "visit_series"), s_index)))
    content["visits"] = visits
    for section in ("eligibility", "regimens", "endpoints", "assumptions", "edit_checks"):
        content[section] = copy.deepcopy(
            _list_of_mappings(raw.get(section, []), _path(prefix, section))
        )
    content["response_criteria"] = copy.deepcopy(raw.get("response_criteria"))
    content["ctcae"] = copy.deepcopy(raw.get("ctcae") or {})
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
    _check_keys(series, allowed, prefix)
    unit_days = _int(series, "unit_days", prefix, minimum=1)
    start = _int(series, "start", prefix, minimum=1)
    stop = _int(series, "stop", prefix, minimum=start)
    step = _int(series, "step", prefix, minimum=1, default=1)
    window = _int(series, "window", prefix, minimum=0, default=0)
    before = _int(series, "window_before", prefix, minimum=0, default=window)
    after = _int(series, "window_after", prefix, minimum=0, default=window)
    code_prefix = _text(series, "prefix", prefix)
    unit_name = _text(series, "unit_name", prefix)
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
        section_path = _path(prefix, section)
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
        _check_keys(change, {"upsert": False, "remove": False}, section_path)
        items = updated[section]
        for code in change.get("remove", []) or []:
            if not any(item.get("code") == code for item in items):
                raise DomainError(
                    _path(section_path, "remove"), f"no {section} item with code {code!r}"
                )
            items = [item for item in items if item.get("code") != code]
        for index, item in enumerate(
            _list_of_mappings(change.get("upsert", []) or [], _path(section_path, "upsert"))
        ):
            _code(item, _path(_path(section_path, "upsert"), index))
            positions = [
                i for i, existing in enumerate(items) if existing.get("code") == item["code"]
            ]
            if positions:
                items[positions[0]] = copy.deepcopy(item)
            else:
                items.append(copy.deepcopy(item))
        updated[section] = items
    return updated


def _validated_content(
    content: dict[str, Any],
    prefix: str,
    arm_codes: set[str],
    validate_rule: RuleValidator | None,
    validate_endpoints: EndpointValidator | None,
) -> dict[str, Any]:
    visits = [_visit(v, _path(_path(prefix, "visits"), i)) for i, v in enumerate(content["visits"])]
    if not visits:
        raise DomainError(_path(prefix, "visits"), "a protocol needs a visit schedule")
    _unique_codes(visits, _path(prefix, "visits"))  # before sorting: indexes as in the file
    visits.sort(key=lambda v: v["day_offset"])
    criteria = [
        _criterion(c, _path(_path(prefix, "eligibility"), i), validate_rule)
        for i, c in enumerate(content["eligibility"])
    ]
    _unique_codes(criteria, _path(prefix, "eligibility"))
    regimens = [
        _regimen(r, _path(_path(prefix, "regimens"), i), arm_codes)
        for i, r in enumerate(content["regimens"])
    ]
    _unique_codes(regimens, _path(prefix, "regimens"))
    for arm in arm_codes - {r["arm"] for r in regimens}:
        raise DomainError(_path(prefix, "regimens"), f"arm {arm!r} has no regimen")
    endpoints = [
        _endpoint(e, _path(_path(prefix, "endpoints"), i))
        for i, e in enumerate(content["endpoints"])
    ]
    _unique_codes(endpoints, _path(prefix, "endpoints"))
    if not endpoints:
        raise DomainError(_path(prefix, "endpoints"), "a protocol needs at least one endpoint")
    criteria_block = content.get("response_criteria")
    if criteria_block is not None and not isinstance(criteria_block, dict):
        raise DomainError(_path(prefix, "response_criteria"), "must be a mapping")
    if validate_endpoints is not None:
        validate_endpoints(
            criteria_block, [e["raw"] for e in endpoints], _path(prefix, "endpoints")
        )
    ctcae = content.get("ctcae") or {}
    _check_keys(ctcae, {"exclude_terms_from_suggestions": False}, _path(prefix, "ctcae"))
    excluded = ctcae.get("exclude_terms_from_suggestions", [])
    if not isinstance(excluded, list) or not all(isinstance(t, str) for t in excluded):
        raise DomainError(
            _path(prefix, "ctcae.exclude_terms_from_suggestions"), "must be a list of CTCAE terms"
        )
    # Checked against the content as written, so a `parameter` reads like the file's keys.
    assumptions = validated_assumptions(
        content.get("assumptions", []), content, _path(prefix, "assumptions")
    )
    return {
        "visits": visits,
        "eligibility": criteria,
        "regimens": regimens,
        "endpoints": [{k: v for k, v in e.items() if k != "raw"} for e in endpoints],
        "response_criteria": criteria_block,
        "ctcae": {"exclude_terms_from_suggestions": excluded},
        "assumptions": assumptions,
        # Data management (issue 14): checks that raise queries by themselves.
        "edit_checks": parse_edit_checks(
            content.get("edit_checks", []),
            _path(prefix, "edit_checks"),
            {visit["code"] for visit in visits},
        ),
    }


def _visit(raw: dict, prefix: str) -> dict[str, Any]:
    allowed = {
        "code": True,
        "name": True,
        "day_offset": False,
        "window_before": False,
        "window_after": False,
        "window": False,
    }
    _check_keys(raw, allowed, prefix)
    if "day_offset" not in raw:
        raise DomainError(_path(prefix, "day_offset"), "is required")
    day_offset = raw["day_offset"]
    if isinstance(day_offset, bool) or not isinstance(day_offset, int):
        raise DomainError(_path(prefix, "day_offset"), "must be a whole number of days after day 1")
    window = _int(raw, "window", prefix, minimum=0, default=0)
    return {
        "code": _code(raw, prefix),
        "name": _text(raw, "name", prefix),
        "day_offset": day_offset,
        "window_before": _int(raw, "window_before", prefix, minimum=0, default=window),
        "window_after": _int(raw, "window_after", prefix, minimum=0, default=window),
    }


def _criterion(raw: dict, prefix: str, validate_rule: RuleValidator | None) -> dict[str, Any]:
    _check_keys(raw, {"code": True, "kind": True, "text": True, "rule": False}, prefix)
    rule = raw.get("rule")
    if rule is not None:
        if not isinstance(rule, dict):
            raise DomainError(_path(prefix, "rule"), "must be a mapping")
        if validate_rule is not None:
            validate_rule(rule, _path(prefix, "rule"))
    return {
        "code": _code(raw, prefix),
        "kind": _choice(raw, "kind", CRITERION_KINDS, prefix),
        "text": _text(raw, "text", prefix),
        "rule": copy.deepcopy(rule),
    }


def _regimen(raw: dict, prefix: str, arm_codes: set[str]) -> dict[str, Any]:
    allowed = {
        "code": True,
        "arm": True,
        "drug": True,
        "dose_basis": True,
        "dose_amount": True,
        "dose_period": True,
        "max_dose_amount": False,
        "frequency": True,
        "route": False,
        "duration_days": False,
        "administrations": False,
        "weight_basis": False,
        "bsa_formula": False,
        "rounding_step_mg": False,
        "trough_target": False,
        "taper": False,
        "notes": False,
    }
    _check_keys(raw, allowed, prefix)
    arm = raw.get("arm")
    if arm not in arm_codes:
        raise DomainError(
            _path(prefix, "arm"), f"unknown arm {arm!r} (arms: {', '.join(sorted(arm_codes))})"
        )
    basis = _choice(raw, "dose_basis", DOSE_BASES, prefix)
    regimen = {
        "code": _code(raw, prefix),
        "arm": arm,
        "drug": _text(raw, "drug", prefix),
        "dose_basis": basis,
        "dose_amount": _decimal(raw, "dose_amount", prefix),
        "dose_period": _choice(raw, "dose_period", DOSE_PERIODS, prefix),
        "max_dose_amount": _decimal(raw, "max_dose_amount", prefix, required=False),
        "frequency": _text(raw, "frequency", prefix),
        "route": _text(raw, "route", prefix, required=False) or "oral",
        "duration_days": _int(raw, "duration_days", prefix, minimum=1)
        if "duration_days" in raw
        else None,
        "administrations": _int(raw, "administrations", prefix, minimum=1)
        if "administrations" in raw
        else None,
        "weight_basis": "",
        "bsa_formula": "",
        "rounding_step_mg": _decimal(raw, "rounding_step_mg", prefix, required=False),
        "trough_target": None,
        "taper": copy.deepcopy(raw.get("taper")),
        "notes": _text(raw, "notes", prefix, required=False),
    }
    if basis == "mg_per_kg":
        regimen["weight_basis"] = _choice(
            raw, "weight_basis", WEIGHT_BASES, prefix, default="baseline"
        )
    if basis == "mg_per_m2":
        regimen["bsa_formula"] = _choice(
            raw, "bsa_formula", BSA_FORMULAS, prefix, default="mosteller"
        )
    trough = raw.get("trough_target")
    if trough is not None:
        trough_prefix = _path(prefix, "trough_target")
        if not isinstance(trough, dict):
            raise DomainError(trough_prefix, "must be a mapping with low, high and unit")
        _check_keys(trough, {"low": True, "high": True, "unit": True}, trough_prefix)
        low = _decimal(trough, "low", trough_prefix)
        high = _decimal(trough, "high", trough_prefix)
        if Decimal(low) >= Decimal(high):
            raise DomainError(_path(trough_prefix, "high"), "must be above low")
        regimen["trough_target"] = {
            "low": low,
            "high": high,
            "unit": _text(trough, "unit", trough_prefix),
        }
    taper = regimen["taper"]
    if taper is not None:
        taper_prefix = _path(prefix, "taper")
        if not isinstance(taper, dict):
            raise DomainError(taper_prefix, "must be a mapping")
        _check_keys(
            taper,
            {
                "full_dose_weeks": True,
                "taper_weeks": True,
                "target_daily_mg": True,
                "rounding_mg": True,
                "step_table": True,
            },
            taper_prefix,
        )
        _int(taper, "full_dose_weeks", taper_prefix, minimum=0)
        _int(taper, "taper_weeks", taper_prefix, minimum=1)
        _decimal(taper, "target_daily_mg", taper_prefix)
        _decimal(taper, "rounding_mg", taper_prefix)
        steps = _list_of_mappings(taper["step_table"], _path(taper_prefix, "step_table"))
        for index, step in enumerate(steps):
            step_prefix = _path(_path(taper_prefix, "step_table"), index)
            _check_keys(step, {"above_mg": True, "decrement_mg": True}, step_prefix)
            _decimal(step, "above_mg", step_prefix)
            if Decimal(_decimal(step, "decrement_mg", step_prefix)) <= 0:
                raise DomainError(_path(step_prefix, "decrement_mg"), "must be above 0")
    return regimen


ENDPOINT_COMMON = {"code", "name", "kind", "primary", "description"}


def _endpoint(raw: dict, prefix: str) -> dict[str, Any]:
    code = _code(raw, prefix)
    name = _text(raw, "name", prefix)
    kind = _text(raw, "kind", prefix)
    primary = raw.get("primary", False)
    if not isinstance(primary, bool):
        raise DomainError(_path(prefix, "primary"), "must be true or false")
    time_point = raw.get("time_point")
    day = time_point.get("day") if isinstance(time_point, dict) else None
    parameters = {k: copy.deepcopy(v) for k, v in raw.items() if k not in ENDPOINT_COMMON}
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "primary": primary,
        "description": _text(raw, "description", prefix, required=False),
        "time_point_day": day if isinstance(day, int) and not isinstance(day, bool) else None,
        "parameters": parameters,
        "raw": raw,
    }
