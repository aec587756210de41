"""The content of one protocol version: visits, eligibility, regimens, endpoints, assumptions,
diagnoses.

`validated_content` checks a version's full content (version 1 as written, a later version once
its amendment is applied) and returns it in the form stored; the eligibility rules and the
endpoints are checked by the validators their own modules plug in. Errors name the dotted key
path at fault (``versions.1.regimens.0.trough_target.high``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ecrf.domain import protocol_readers as read
from ecrf.domain.assumptions import validated_assumptions
from ecrf.domain.diagnoses import check_endpoint_diagnoses, validated_diagnoses
from ecrf.domain.edit_checks import parse_edit_checks
from ecrf.domain.errors import DomainError
from ecrf.domain.sdv_plan import parse_sdv_plan

DOSE_BASES = ("fixed", "mg_per_kg", "mg_per_m2")
DOSE_PERIODS = ("administration", "day")
BSA_FORMULAS = ("mosteller", "dubois")
WEIGHT_BASES = ("baseline", "latest")
CRITERION_KINDS = ("inclusion", "exclusion")

# Validators of the parts owned by other domain modules, plugged in by the caller so that this
# module stays independent of them (each raises DomainError with the path it is given).
RuleValidator = Callable[[dict, str], None]
EndpointValidator = Callable[[dict | None, list[dict], str], None]


def _amount(mapping: dict, key: str, prefix: str, *, required: bool = True) -> str | None:
    """A non-negative number, stored as its decimal text (JSON keeps no Decimal)."""
    default = read.REQUIRED if required else None
    number = read.field(mapping, key, prefix, read.decimal, minimum=0, default=default)
    return None if number is None else str(number)


def validated_content(
    content: dict[str, Any],
    prefix: str,
    arm_codes: set[str],
    validate_rule: RuleValidator | None,
    validate_endpoints: EndpointValidator | None,
) -> dict[str, Any]:
    visits = [
        _visit(v, read.key_path(prefix, "visits", i)) for i, v in enumerate(content["visits"])
    ]
    if not visits:
        raise DomainError(read.key_path(prefix, "visits"), "a protocol needs a visit schedule")
    read.unique_codes(
        visits, read.key_path(prefix, "visits")
    )  # before sorting: indexes as in the file
    visits.sort(key=lambda v: v["day_offset"])
    criteria = [
        _criterion(c, read.key_path(prefix, "eligibility", i), validate_rule)
        for i, c in enumerate(content["eligibility"])
    ]
    read.unique_codes(criteria, read.key_path(prefix, "eligibility"))
    regimens = [
        _regimen(r, read.key_path(prefix, "regimens", i), arm_codes)
        for i, r in enumerate(content["regimens"])
    ]
    read.unique_codes(regimens, read.key_path(prefix, "regimens"))
    for arm in arm_codes - {r["arm"] for r in regimens}:
        raise DomainError(read.key_path(prefix, "regimens"), f"arm {arm!r} has no regimen")
    endpoints = [
        _endpoint(e, read.key_path(prefix, "endpoints", i))
        for i, e in enumerate(content["endpoints"])
    ]
    read.unique_codes(endpoints, read.key_path(prefix, "endpoints"))
    if not endpoints:
        raise DomainError(
            read.key_path(prefix, "endpoints"), "a protocol needs at least one endpoint"
        )
    criteria_block = content.get("response_criteria")
    if criteria_block is not None and not isinstance(criteria_block, dict):
        raise DomainError(read.key_path(prefix, "response_criteria"), "must be a mapping")
    if validate_endpoints is not None:
        validate_endpoints(
            criteria_block, [e["raw"] for e in endpoints], read.key_path(prefix, "endpoints")
        )
    ctcae = content.get("ctcae") or {}
    read.check_keys(
        ctcae, {"exclude_terms_from_suggestions": False}, read.key_path(prefix, "ctcae")
    )
    excluded = ctcae.get("exclude_terms_from_suggestions", [])
    if not isinstance(excluded, list) or not all(isinstance(t, str) for t in excluded):
        raise DomainError(
            read.key_path(prefix, "ctcae.exclude_terms_from_suggestions"),
            "must be a list of CTCAE terms",
        )
    # Checked against the content as written, so a `parameter` reads like the file's keys.
    assumptions = validated_assumptions(
        content.get("assumptions", []), content, read.key_path(prefix, "assumptions")
    )
    diagnoses = validated_diagnoses(
        content.get("diagnoses", []), read.key_path(prefix, "diagnoses")
    )
    check_endpoint_diagnoses(
        [e["raw"] for e in endpoints], diagnoses, read.key_path(prefix, "endpoints")
    )
    resolved = {
        "visits": visits,
        "eligibility": criteria,
        "regimens": regimens,
        "endpoints": [{k: v for k, v in e.items() if k != "raw"} for e in endpoints],
        "response_criteria": criteria_block,
        "ctcae": {"exclude_terms_from_suggestions": excluded},
        "assumptions": assumptions,
    }
    # Only when declared: the content hash of a file without diagnoses stays what it was, so
    # reloading it does not make a new version.
    if diagnoses:
        resolved["diagnoses"] = diagnoses
    # Data management (issue 14): checks that raise queries by themselves; only when declared,
    # like the diagnoses.
    edit_checks = parse_edit_checks(
        content.get("edit_checks", []),
        read.key_path(prefix, "edit_checks"),
        {visit["code"] for visit in visits},
    )
    if edit_checks:
        resolved["edit_checks"] = edit_checks
    # Source data verification plan (issue 14): only when declared, like the edit checks.
    sdv_plan = parse_sdv_plan(content.get("sdv_plan"), read.key_path(prefix, "sdv_plan"))
    if sdv_plan:
        resolved["sdv_plan"] = sdv_plan
    return resolved


def _visit(raw: dict, prefix: str) -> dict[str, Any]:
    allowed = {
        "code": True,
        "name": True,
        "day_offset": False,
        "window_before": False,
        "window_after": False,
        "window": False,
    }
    read.check_keys(raw, allowed, prefix)
    if "day_offset" not in raw:
        raise DomainError(read.key_path(prefix, "day_offset"), "is required")
    day_offset = raw["day_offset"]
    if isinstance(day_offset, bool) or not isinstance(day_offset, int):
        raise DomainError(
            read.key_path(prefix, "day_offset"), "must be a whole number of days after day 1"
        )
    window = read.field(raw, "window", prefix, read.integer, minimum=0, default=0)
    return {
        "code": read.code(raw.get("code"), read.key_path(prefix, "code")),
        "name": read.field(raw, "name", prefix, read.text),
        "day_offset": day_offset,
        "window_before": read.field(
            raw, "window_before", prefix, read.integer, minimum=0, default=window
        ),
        "window_after": read.field(
            raw, "window_after", prefix, read.integer, minimum=0, default=window
        ),
    }


def _criterion(raw: dict, prefix: str, validate_rule: RuleValidator | None) -> dict[str, Any]:
    read.check_keys(raw, {"code": True, "kind": True, "text": True, "rule": False}, prefix)
    rule = raw.get("rule")
    if rule is not None:
        if not isinstance(rule, dict):
            raise DomainError(read.key_path(prefix, "rule"), "must be a mapping")
        if validate_rule is not None:
            validate_rule(rule, read.key_path(prefix, "rule"))
    return {
        "code": read.code(raw.get("code"), read.key_path(prefix, "code")),
        "kind": read.field(raw, "kind", prefix, read.choice, CRITERION_KINDS),
        "text": read.field(raw, "text", prefix, read.text),
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
    read.check_keys(raw, allowed, prefix)
    arm = raw.get("arm")
    if arm not in arm_codes:
        raise DomainError(
            read.key_path(prefix, "arm"),
            f"unknown arm {arm!r} (arms: {', '.join(sorted(arm_codes))})",
        )
    basis = read.field(raw, "dose_basis", prefix, read.choice, DOSE_BASES)
    regimen = {
        "code": read.code(raw.get("code"), read.key_path(prefix, "code")),
        "arm": arm,
        "drug": read.field(raw, "drug", prefix, read.text),
        "dose_basis": basis,
        "dose_amount": _amount(raw, "dose_amount", prefix),
        "dose_period": read.field(raw, "dose_period", prefix, read.choice, DOSE_PERIODS),
        "max_dose_amount": _amount(raw, "max_dose_amount", prefix, required=False),
        "frequency": read.field(raw, "frequency", prefix, read.text),
        "route": read.field(raw, "route", prefix, read.text, default="") or "oral",
        "duration_days": read.field(raw, "duration_days", prefix, read.integer, minimum=1)
        if "duration_days" in raw
        else None,
        "administrations": read.field(raw, "administrations", prefix, read.integer, minimum=1)
        if "administrations" in raw
        else None,
        "weight_basis": "",
        "bsa_formula": "",
        "rounding_step_mg": _amount(raw, "rounding_step_mg", prefix, required=False),
        "trough_target": None,
        "taper": copy.deepcopy(raw.get("taper")),
        "notes": read.field(raw, "notes", prefix, read.text, default=""),
    }
    if basis == "mg_per_kg":
        regimen["weight_basis"] = read.field(
            raw, "weight_basis", prefix, read.choice, WEIGHT_BASES, default="baseline"
        )
    if basis == "mg_per_m2":
        regimen["bsa_formula"] = read.field(
            raw, "bsa_formula", prefix, read.choice, BSA_FORMULAS, default="mosteller"
        )
    trough = raw.get("trough_target")
    if trough is not None:
        trough_prefix = read.key_path(prefix, "trough_target")
        if not isinstance(trough, dict):
            raise DomainError(trough_prefix, "must be a mapping with low, high and unit")
        read.check_keys(trough, {"low": True, "high": True, "unit": True}, trough_prefix)
        low = _amount(trough, "low", trough_prefix)
        high = _amount(trough, "high", trough_prefix)
        if Decimal(low) >= Decimal(high):
            raise DomainError(read.key_path(trough_prefix, "high"), "must be above low")
        regimen["trough_target"] = {
            "low": low,
            "high": high,
            "unit": read.field(trough, "unit", trough_prefix, read.text),
        }
    taper = regimen["taper"]
    if taper is not None:
        taper_prefix = read.key_path(prefix, "taper")
        if not isinstance(taper, dict):
            raise DomainError(taper_prefix, "must be a mapping")
        read.check_keys(
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
        read.field(taper, "full_dose_weeks", taper_prefix, read.integer, minimum=0)
        read.field(taper, "taper_weeks", taper_prefix, read.integer, minimum=1)
        _amount(taper, "target_daily_mg", taper_prefix)
        _amount(taper, "rounding_mg", taper_prefix)
        steps = read.list_of_mappings(
            taper["step_table"], read.key_path(taper_prefix, "step_table")
        )
        for index, step in enumerate(steps):
            step_prefix = read.key_path(taper_prefix, "step_table", index)
            read.check_keys(step, {"above_mg": True, "decrement_mg": True}, step_prefix)
            _amount(step, "above_mg", step_prefix)
            if Decimal(_amount(step, "decrement_mg", step_prefix)) <= 0:
                raise DomainError(read.key_path(step_prefix, "decrement_mg"), "must be above 0")
    return regimen


ENDPOINT_COMMON = {"code", "name", "kind", "primary", "description"}


def _endpoint(raw: dict, prefix: str) -> dict[str, Any]:
    code = read.code(raw.get("code"), read.key_path(prefix, "code"))
    name = read.field(raw, "name", prefix, read.text)
    kind = read.field(raw, "kind", prefix, read.text)
    primary = raw.get("primary", False)
    if not isinstance(primary, bool):
        raise DomainError(read.key_path(prefix, "primary"), "must be true or false")
    time_point = raw.get("time_point")
    day = time_point.get("day") if isinstance(time_point, dict) else None
    parameters = {k: copy.deepcopy(v) for k, v in raw.items() if k not in ENDPOINT_COMMON}
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "primary": primary,
        "description": read.field(raw, "description", prefix, read.text, default=""),
        "time_point_day": day if isinstance(day, int) and not isinstance(day, bool) else None,
        "parameters": parameters,
        "raw": raw,
    }
