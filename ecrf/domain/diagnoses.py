"""Diagnoses a study enrols together (NCT03918265: AIHA, PRCA and Evans syndrome).

A protocol version may declare them under `diagnoses`, each item identified by `code` (so an
amendment can add or drop one with `changes: {diagnoses: {upsert: [...], remove: [...]}}`):

    diagnoses:
      - {code: AIHA, name: Autoimmune haemolytic anaemia}
      - {code: EVANS, name: Evans syndrome, description: AIHA with immune thrombocytopenia}

A study whose version declares diagnoses records one per patient at screening (required); an
endpoint may then be restricted to some of them with `applies_to_diagnoses: [AIHA, EVANS]`, and
a patient of another diagnosis is "not applicable" to it rather than a non-responder. A study that
declares none records no diagnosis, and its endpoints apply to every patient.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ecrf.domain.errors import DomainError

DIAGNOSIS_KEYS = ("code", "name", "description")
APPLIES_TO_KEY = "applies_to_diagnoses"
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def validated_diagnoses(items: Any, prefix: str) -> list[dict[str, str]]:
    """The version's diagnoses as `{code, name, description}` (text), in file order."""
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise DomainError(prefix, "must be a list of mappings")
    result: list[dict[str, str]] = []
    for index, raw in enumerate(items):
        where = f"{prefix}.{index}"
        unknown = sorted(set(raw) - set(DIAGNOSIS_KEYS))
        if unknown:
            raise DomainError(
                f"{where}.{unknown[0]}", f"unknown key (allowed: {', '.join(DIAGNOSIS_KEYS)})"
            )
        code = _text(raw.get("code"), f"{where}.code")
        if not _CODE.match(code):
            raise DomainError(
                f"{where}.code", "must start with a letter and hold only letters, digits and _"
            )
        if any(known["code"] == code for known in result):
            raise DomainError(f"{where}.code", f"duplicate code {code!r}")
        description = raw.get("description")
        result.append(
            {
                "code": code,
                "name": _text(raw.get("name"), f"{where}.name"),
                "description": ""
                if description is None
                else _text(description, f"{where}.description"),
            }
        )
    return result


def parse_applies_to(
    raw: object, where: str, declared: Iterable[str] | None = None
) -> frozenset[str] | None:
    """An endpoint's `applies_to_diagnoses`: None (every patient) or a non-empty set of codes,
    each one of `declared` when the declared codes are known."""
    if raw is None:
        return None
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence) or not raw:
        raise DomainError(where, "must be a non-empty list of diagnosis codes")
    codes = []
    for index, code in enumerate(raw):
        codes.append(_text(code, f"{where}.{index}"))
    if len(set(codes)) != len(codes):
        raise DomainError(where, "lists a diagnosis twice")
    if declared is not None:
        known = list(declared)
        for index, code in enumerate(codes):
            if code not in known:
                listed = ", ".join(known) or "none declared in diagnoses"
                raise DomainError(f"{where}.{index}", f"unknown diagnosis {code!r} ({listed})")
    return frozenset(codes)


def check_endpoint_diagnoses(
    endpoints: Sequence[Mapping[str, Any]], diagnoses: Sequence[Mapping[str, str]], prefix: str
) -> None:
    """Every endpoint's `applies_to_diagnoses` names diagnoses the version declares."""
    declared = [d["code"] for d in diagnoses]
    for index, endpoint in enumerate(endpoints):
        parse_applies_to(
            endpoint.get(APPLIES_TO_KEY), f"{prefix}.{index}.{APPLIES_TO_KEY}", declared
        )


def diagnosis_problem(declared: Sequence[Mapping[str, str]], code: str | None) -> str | None:
    """Why `code` cannot be a patient's diagnosis under a version declaring `declared`, or None.

    Required (and one of the declared codes) when the version declares diagnoses; absent when it
    declares none."""
    codes = [d["code"] for d in declared]
    if not codes:
        return None if not code else "This study records no diagnosis; leave it empty."
    if not code:
        return f"Required for this study: one of {', '.join(codes)}."
    if code not in codes:
        return f"Unknown diagnosis {code!r} for this study: one of {', '.join(codes)}."
    return None


def diagnosis_name(declared: Sequence[Mapping[str, str]], code: str | None) -> str:
    """The declared name of a code ('' for no diagnosis, the code itself if undeclared)."""
    if not code:
        return ""
    return next((d["name"] for d in declared if d["code"] == code), code)


def _text(value: object, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str) or not value.strip():
        raise DomainError(where, "must be a non-empty text")
    return value.strip()


def restriction_verdict(
    applies_to: frozenset[str] | None, diagnosis: str | None
) -> tuple[bool, str] | None:
    """Whether an endpoint restricted to `applies_to` is evaluated for a patient of `diagnosis`.

    None: evaluate it (no restriction, the diagnosis is one of them, or `diagnosis` is None —
    the caller does not distinguish diagnoses). Else `(applicable, detail)` of the result that
    replaces the evaluation: not applicable for another diagnosis; applicable but not
    evaluable when the study records diagnoses and this patient's is not recorded ("")."""
    if applies_to is None or diagnosis is None or diagnosis in applies_to:
        return None
    listed = ", ".join(sorted(applies_to))
    if not diagnosis:
        return True, f"not evaluable: no diagnosis recorded (applies to {listed})"
    return False, f"not applicable: applies to {listed}; diagnosis {diagnosis}"
