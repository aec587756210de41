"""An eligibility evaluation as a checklist in words: meets / does not meet / not yet known.

For an exclusion, "met" means the exclusion applies, so an exclusion that does not apply reads
as passed; items only an investigator may confirm say so. The casebook and the eligibility page
of the admin both show it.
"""

from __future__ import annotations

from patients.models import EligibilityAssessment


def criterion_in_words(kind: str, met: bool | None) -> tuple[str, str]:
    """(verdict, wording) of one eligibility criterion: for an exclusion, "met" means the
    exclusion applies, so an exclusion that does not apply reads as passed."""
    if met is None:
        return "open", "not yet known"
    if kind == "exclusion":
        return ("fails", "applies (excluded)") if met else ("passes", "does not apply")
    return ("passes", "meets") if met else ("fails", "does not meet")


def _detail_in_words(criterion: dict) -> str:
    """The stored detail, except an investigator's answer, whose "met" / "not met" the
    verdict already says in words (for an exclusion, "met" would read as passed)."""
    if criterion.get("source") == "investigator" and criterion.get("met") is not None:
        return "answered by an investigator"
    return criterion.get("detail") or ""


def eligibility_checklist(assessment: EligibilityAssessment | None) -> list[dict]:
    if assessment is None:
        return []
    rows = []
    for criterion in assessment.criteria:
        verdict, words = criterion_in_words(criterion["kind"], criterion["met"])
        rows.append(
            {
                "code": criterion["code"],
                "kind": criterion["kind"],
                "verdict": verdict,
                "words": words,
                "detail": _detail_in_words(criterion),
                "investigator_only": criterion.get("source") == "investigator",
            }
        )
    return rows
