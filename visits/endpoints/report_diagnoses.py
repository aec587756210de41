"""The study report by diagnosis, for studies that enrol several diseases (NCT03918265).

An endpoint restricted to some diagnoses (`applies_to_diagnoses`) is "not applicable" to a
patient of another diagnosis: that patient is left out of its denominators (and counted as
`not_applicable`), never counted as a non-responder. Each arm's results are also given per
diagnosis, each group listing only the endpoints that apply to it.
"""

from __future__ import annotations

from collections.abc import Callable

NOT_RECORDED = "Not recorded"


def restricted_to(definition) -> list[str] | None:
    """The diagnosis codes an endpoint definition applies to, or None (every patient)."""
    return definition.parameters.get("applies_to_diagnoses")


def applicable_results(values: list[dict]) -> list[dict]:
    """The stored results that apply to their patient (`applicable` false leaves one out)."""
    return [v for v in values if v.get("applicable", True) is not False]


def declared_diagnoses(protocol_version) -> list[dict]:
    return [{"code": d["code"], "name": d["name"]} for d in protocol_version.diagnoses]


def by_diagnosis(
    definitions,
    declared: list[dict],
    members: list[tuple[str, dict]],
    summarize: Callable[[object, list[dict]], dict],
) -> list[dict]:
    """Per diagnosis (in the protocol's order), of one arm's `(diagnosis, endpoints)` members:
    `code`, `name`, `n` and the summary of every endpoint that applies to the diagnosis.
    Patients without a recorded diagnosis form a last group (code None), only if there are any.
    Empty for a study that declares no diagnoses."""
    if not declared:
        return []
    groups = [(d["code"], d["name"]) for d in declared]
    known = {code for code, _ in groups}
    if any(diagnosis not in known for diagnosis, _ in members):
        groups.append((None, NOT_RECORDED))
    out = []
    for code, name in groups:
        results = [
            endpoints
            for diagnosis, endpoints in members
            if diagnosis == code or (code is None and diagnosis not in known)
        ]
        out.append(
            {
                "code": code,
                "name": name,
                "n": len(results),
                "endpoints": {
                    d.code: summarize(d, results)
                    for d in definitions
                    if code is None or restricted_to(d) is None or code in restricted_to(d)
                },
            }
        )
    return out
