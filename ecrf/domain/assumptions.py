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

from typing import Any

from ecrf.domain import protocol_readers as read
from ecrf.domain.errors import DomainError

ASSUMPTION_KEYS = ("code", "parameter", "value", "source")


def validated_assumptions(items: Any, content: dict[str, Any], prefix: str) -> list[dict]:
    """The version's assumptions as `{code, parameter, value, source}` (all text), in file
    order; raises DomainError naming the key at fault."""
    result: list[dict] = []
    for index, raw in enumerate(read.list_of_mappings(items, prefix)):
        where = f"{prefix}.{index}"
        read.reject_unknown_keys(raw, ASSUMPTION_KEYS, where)
        values = {}
        for key in ASSUMPTION_KEYS:
            value = raw.get(key)
            # A value may be written as a number (`value: 30`); it is kept as its text.
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
            values[key] = read.text(value, f"{where}.{key}")
        values["code"] = read.code(values["code"], f"{where}.code")
        if not _resolves(content, values["parameter"].split(".")):
            raise DomainError(
                f"{where}.parameter",
                f"{values['parameter']!r} names nothing in this version's content",
            )
        result.append(values)
    read.unique_codes(result, prefix)
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
