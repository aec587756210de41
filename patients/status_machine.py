"""The patient status machine: which moves are allowed, and which service may make each.

    screening ─┬─> eligible ─┬─> randomized ─┬─> on_treatment ─┬─> follow_up ─┬─> completed
               └─> screen_failed └─> enrolled ─┘                 └──────────────┴─> withdrawn

Eligibility evaluations move a patient among screening, eligible and screen failed (a correction
followed by a re-evaluation may move them back); only the randomization and enrolment services
allocate; the other moves are made by site staff (a reason and a date each). Site staff may also
end a screening for a reason that is not a criterion (declined, consent withdrawn).
"""

from __future__ import annotations

from enum import StrEnum

from patients.models import PatientStatus as S


class Via(StrEnum):
    """The service that makes a move."""

    ELIGIBILITY = "eligibility"  # patients.eligibility.eligibility_evaluate
    ALLOCATION = "allocation"  # trials.randomization.services.patient_randomize / patient_enrol
    MANUAL = "manual"  # a user's request through patients.services.patient_move_status


_EVALUATION = frozenset({Via.ELIGIBILITY})
_EVALUATION_OR_STAFF = frozenset({Via.ELIGIBILITY, Via.MANUAL})
_ALLOCATION = frozenset({Via.ALLOCATION})
_STAFF = frozenset({Via.MANUAL})

TRANSITIONS: dict[tuple[str, str], frozenset[Via]] = {
    (S.SCREENING, S.ELIGIBLE): _EVALUATION,
    (S.SCREENING, S.SCREEN_FAILED): _EVALUATION_OR_STAFF,
    (S.ELIGIBLE, S.SCREENING): _EVALUATION,
    (S.ELIGIBLE, S.SCREEN_FAILED): _EVALUATION_OR_STAFF,
    (S.SCREEN_FAILED, S.SCREENING): _EVALUATION,
    (S.SCREEN_FAILED, S.ELIGIBLE): _EVALUATION,
    (S.ELIGIBLE, S.RANDOMIZED): _ALLOCATION,
    (S.ELIGIBLE, S.ENROLLED): _ALLOCATION,
    (S.RANDOMIZED, S.ON_TREATMENT): _STAFF,
    (S.RANDOMIZED, S.FOLLOW_UP): _STAFF,  # allocated but never treated
    (S.RANDOMIZED, S.WITHDRAWN): _STAFF,
    (S.ENROLLED, S.ON_TREATMENT): _STAFF,
    (S.ENROLLED, S.FOLLOW_UP): _STAFF,
    (S.ENROLLED, S.WITHDRAWN): _STAFF,
    (S.ON_TREATMENT, S.FOLLOW_UP): _STAFF,
    (S.ON_TREATMENT, S.COMPLETED): _STAFF,
    (S.ON_TREATMENT, S.WITHDRAWN): _STAFF,
    (S.FOLLOW_UP, S.COMPLETED): _STAFF,
    (S.FOLLOW_UP, S.WITHDRAWN): _STAFF,
}

# Statuses a user may request directly (POST /api/patients/{id}/status/).
MANUAL_TARGETS: tuple[str, ...] = tuple(
    dict.fromkeys(to for (_, to), via in TRANSITIONS.items() if Via.MANUAL in via)
)
# Moves that need a coded reason (ExitReason), counted in the CONSORT diagram.
CODED_REASON_TARGETS = frozenset({S.SCREEN_FAILED, S.WITHDRAWN})
PRE_ALLOCATION = frozenset({S.SCREENING, S.ELIGIBLE, S.SCREEN_FAILED})


def move_allowed(current: str, target: str, via: Via) -> bool:
    return via in TRANSITIONS.get((current, target), frozenset())


def next_statuses(current: str, via: Via = Via.MANUAL) -> list[str]:
    """Where `via` may move a patient from `current` (for messages and admin choices)."""
    return [to for (frm, to), vias in TRANSITIONS.items() if frm == current and via in vias]
