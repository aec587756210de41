"""Protocol assumptions: parameters a protocol file sets that the registry text does not state.

Each is an item of a version's `assumptions` section, identified by `code` (so an amendment can
override one with `changes: {assumptions: {upsert: [...]}}` or drop it with `remove`):

    - code: iwg_confirmation
      parameter: response_criteria.confirmation
      value: a second qualifying count more than 7 days after the first
      source: IWG 2009 (Rodeghiero et al., Blood 2009)

`parameter` is the dotted path of what the assumption governs in the version's content; items of
a coded list are named by their code (`endpoints.sustained_response_6m.time_point`). The path
must exist, so an assumption cannot silently outlive the parameter it explains.
"""

from __future__ import annotations

import re
from typing import Any

from ecrf.domain.errors import DomainError

ASSUMPTION_KEYS = ("code", "parameter", "value", "source")
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def validated_assumptions(items: Any, content: dict[str, Any], prefix: str) -> list[dict]:
    """The version's assumptions as `{code, parameter, value, source}` (all text), in file
    order; raises DomainError naming the key at fault."""
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise DomainError(prefix, "must be a list of mappings")
    result: list[dict] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        where = f"{prefix}.{index}"
        unknown = sorted(set(raw) - set(ASSUMPTION_KEYS))
        if unknown:
            raise DomainError(
                f"{where}.{unknown[0]}", f"unknown key (allowed: {', '.join(ASSUMPTION_KEYS)})"
            )
        values = {}
        for key in ASSUMPTION_KEYS:
            value = raw.get(key)
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise DomainError(f"{where}.{key}", "must be a non-empty text")
            value = str(value).strip()
            if not value:
                raise DomainError(f"{where}.{key}", "must be a non-empty text")
            values[key] = value
        if not _CODE.match(values["code"]):
            raise DomainError(
                f"{where}.code", "must start with a letter and hold only letters, digits and _"
            )
        if values["code"] in seen:
            raise DomainError(f"{where}.code", f"duplicate code {values['code']!r}")
        seen.add(values["code"])
        if not _resolves(content, values["parameter"].split(".")):
            raise DomainError(
                f"{where}.parameter",
                f"{values['parameter']!r} names nothing in this version's content",
            )
        result.append(values)
    return result


def _resolves(node: Any, segments: list[str]) -> bool:
    for segment in segments:
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list):
            matches = [i for i in node if isinstance(i, dict) and i.get("code") == segment]
            if not matches:
                return False
            node = matches[0]
        else:
            return False
    return True
