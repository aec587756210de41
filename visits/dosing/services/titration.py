"""The investigator's decision on a trough-guided proposal, stored with the proposal itself.

The proposal is recomputed here from the stored record, never taken from the client: the client
names the trough result and dose record it was shown, and if either is no longer the one the
proposal would use, the decision is refused (409) so nobody decides on an outdated proposal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ecrf.access import Action
from ecrf.audit import save_audited
from ecrf.exceptions import Conflict, InvalidInput
from patients.models import Patient
from patients.services import check_patient_entry
from visits.dosing.models import AdjustmentReason, TitrationChoice, TitrationDecision
from visits.dosing.services.adjustments import adjust_dose
from visits.dosing.services.records import lock_patient
from visits.dosing.trough_titration import TroughProposal, trough_proposal


def _check_still_current(shown: TroughProposal, trough_result_id: int, dose_record_id: int):
    if shown.trough.pk != trough_result_id:
        raise Conflict(
            f"The proposal now uses another trough (id {shown.trough.pk}, "
            f"{shown.trough.value_std} ng/mL); reload the proposal and decide again.",
            field="trough_result",
        )
    if shown.current_record.pk != dose_record_id:
        raise Conflict(
            f"The current dose is now record {shown.current_record.pk}; reload the proposal "
            "and decide again.",
            field="dose_record",
        )


def _check_modified_dose(shown: TroughProposal, dose: Decimal) -> None:
    if dose <= 0:
        raise InvalidInput("The decided daily dose must be above 0 mg.", field="decided_daily_mg")
    if dose % shown.rounding_mg:
        raise InvalidInput(
            f"Must be a multiple of {shown.rounding_mg} mg (the dosage form).",
            field="decided_daily_mg",
        )
    if shown.max_daily_mg is not None and dose > shown.max_daily_mg:
        raise InvalidInput(
            f"Above the protocol's maximum of {shown.max_daily_mg} mg/day.",
            field="decided_daily_mg",
        )


def _decided_dose(
    shown: TroughProposal, decision: str, decided_daily_mg: Decimal | None, comment: str
) -> Decimal:
    """The daily dose from now on, after checking the decision is complete and coherent."""
    if decision not in TitrationChoice.values:
        raise InvalidInput(f"One of {', '.join(TitrationChoice.values)}.", field="decision")
    if decision == TitrationChoice.MODIFY:
        if decided_daily_mg is None:
            raise InvalidInput(
                "Give the daily dose you decided on instead of the proposal.",
                field="decided_daily_mg",
            )
        _check_modified_dose(shown, decided_daily_mg)
    elif decided_daily_mg is not None:
        raise InvalidInput(
            f"Only a 'modify' decision takes a dose ('{decision}' keeps "
            + ("the proposed one)." if decision == TitrationChoice.ACCEPT else "the current one)."),
            field="decided_daily_mg",
        )
    if decision != TitrationChoice.ACCEPT and not comment.strip():
        raise InvalidInput("Say why the proposal is not followed.", field="comment")
    if decision == TitrationChoice.ACCEPT:
        return shown.result.proposed_daily_mg
    if decision == TitrationChoice.REJECT:
        return shown.current_record.daily_mg
    return decided_daily_mg


def _adjustment_reason(shown: TroughProposal) -> str:
    within = shown.target_low <= shown.trough.value_std <= shown.target_high
    # A change while the trough is within range is the investigator's own call.
    return (
        AdjustmentReason.INVESTIGATOR_DECISION if within else AdjustmentReason.TROUGH_OUT_OF_RANGE
    )


@transaction.atomic
def titration_decision_create(
    *,
    actor,
    patient: Patient,
    decision: str,
    trough_result_id: int,
    dose_record_id: int,
    decided_daily_mg: Decimal | None = None,
    comment: str = "",
    effective_date: dt.date | None = None,
    drug: str = "tacrolimus",
) -> TitrationDecision:
    # The decision is the investigator's: coordinators may see the proposal, not decide it.
    check_patient_entry(actor, patient, Action.DECIDE_DOSE)
    patient = lock_patient(patient)
    shown = trough_proposal(patient, drug)
    _check_still_current(shown, trough_result_id, dose_record_id)
    decided = _decided_dose(shown, decision, decided_daily_mg, comment)
    current = shown.current_record
    adjustment = None
    if decision != TitrationChoice.REJECT and decided != current.daily_mg:
        adjustment = adjust_dose(
            actor=actor,
            patient=patient,
            regimen=shown.regimen,
            effective_date=effective_date or timezone.localdate(),
            new_daily_mg=decided,
            reason_code=_adjustment_reason(shown),
            comment=f"Trough titration ({decision}): {shown.result.arithmetic}"
            + (f". {comment.strip()}" if comment.strip() else ""),
            trough_result=shown.trough,
        )
    record = TitrationDecision(
        patient=patient,
        regimen=shown.regimen,
        drug=shown.regimen.drug,
        trough_result=shown.trough,
        trough_ng_ml=shown.trough.value_std,
        trough_collected_at=shown.trough.collected_at,
        target_low=shown.target_low,
        target_high=shown.target_high,
        current_dose_record=current,
        current_daily_mg=current.daily_mg,
        action=shown.result.action.value,
        computed_daily_mg=shown.result.computed_daily_mg,
        proposed_daily_mg=shown.result.proposed_daily_mg,
        arithmetic=shown.result.arithmetic,
        decision=decision,
        decided_daily_mg=decided,
        comment=comment.strip(),
        decided_by=actor,
        decided_at=timezone.now(),
        adjustment=adjustment,
    )
    return save_audited(record, actor=actor, reason=f"Trough titration decision: {decision}")
