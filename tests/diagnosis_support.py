"""Screening a patient of any shipped study in tests: a study whose protocol declares diagnoses
(NCT03918265: AIHA, PRCA, Evans) requires one at screening."""

from __future__ import annotations


def screening_diagnosis(study) -> dict[str, str]:
    """`{"diagnosis": <first declared code>}` for a study that records diagnoses, else `{}`."""
    declared = study.current_protocol().diagnoses
    return {"diagnosis": declared[0]["code"]} if declared else {}
