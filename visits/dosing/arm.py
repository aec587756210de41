"""The regimens a patient is treated with: those of their arm in their protocol version."""

from __future__ import annotations

from ecrf.exceptions import InvalidInput
from patients.models import Patient
from trials.models import Regimen


def check_randomized(patient: Patient) -> None:
    """Doses exist only for a patient with an arm and a day 1 (randomized or enrolled)."""
    if patient.arm_id is None or patient.day1 is None:
        raise InvalidInput(
            "The patient is not randomized or enrolled yet (no arm and day 1): no doses.",
            field="patient",
        )


def arm_regimens(patient: Patient) -> list[Regimen]:
    check_randomized(patient)
    return list(
        Regimen.objects.filter(
            protocol_version_id=patient.protocol_version_id, arm_id=patient.arm_id
        )
        .select_related("arm")
        .order_by("order")
    )


def regimen_for_drug(patient: Patient, drug: str, *, field: str = "drug") -> Regimen:
    """The patient's regimen of `drug` (case-insensitive); 400 naming `field` if none."""
    wanted = (drug or "").strip().lower()
    matches = [regimen for regimen in arm_regimens(patient) if regimen.drug.lower() == wanted]
    if not matches:
        arm_drugs = ", ".join(regimen.drug for regimen in arm_regimens(patient)) or "none"
        raise InvalidInput(
            f"{drug!r} is not a drug of the patient's arm (its drugs: {arm_drugs}).", field=field
        )
    if len(matches) > 1:
        raise InvalidInput(
            f"The arm has {len(matches)} regimens of {drug!r}; the protocol is ambiguous.",
            field=field,
        )
    return matches[0]
