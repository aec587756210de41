"""Writes on patients. Each service runs in one transaction and records who and why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ecrf.access import Action, can
from ecrf.audit import save_audited
from ecrf.exceptions import InvalidInput, PermissionRefused
from patients.models import Patient
from trials.models import Site, Study

# Plausibility limits for adults' body size; values outside are typing errors, not patients.
HEIGHT_RANGE_CM = (Decimal("100"), Decimal("250"))
WEIGHT_RANGE_KG = (Decimal("25"), Decimal("300"))


def check_body_size(*, height_cm: Decimal | None, weight_kg: Decimal | None) -> None:
    if height_cm is not None and not HEIGHT_RANGE_CM[0] <= height_cm <= HEIGHT_RANGE_CM[1]:
        raise InvalidInput(
            f"Height must be between {HEIGHT_RANGE_CM[0]} and {HEIGHT_RANGE_CM[1]} cm.",
            field="height_cm",
        )
    if weight_kg is not None and not WEIGHT_RANGE_KG[0] <= weight_kg <= WEIGHT_RANGE_KG[1]:
        raise InvalidInput(
            f"Weight must be between {WEIGHT_RANGE_KG[0]} and {WEIGHT_RANGE_KG[1]} kg.",
            field="weight_kg",
        )


def check_not_future(value: dt.date | None, field: str) -> None:
    if value is not None and value > timezone.localdate():
        raise InvalidInput("Must not be in the future.", field=field)


def check_site_access(actor, study: Study, site: Site, action: Action) -> None:
    """Unknown and foreign sites look the same to the caller (no confirmation of existence)."""
    if site.study_id != study.pk or not can(actor, Action.VIEW, study_id=study.pk, site_id=site.pk):
        raise InvalidInput("Unknown site for this study.", field="site")
    if not can(actor, action, study_id=study.pk, site_id=site.pk):
        raise PermissionRefused(f"Your role does not allow '{action.value}' at this site.")


@transaction.atomic
def patient_create(
    *,
    actor,
    study: Study,
    site: Site,
    sex: str,
    birth_date: dt.date,
    height_cm: Decimal,
    weight_kg: Decimal,
    screened_on: dt.date | None = None,
) -> Patient:
    check_site_access(actor, study, site, Action.ENTER_DATA)
    if not site.is_active:
        raise InvalidInput("The site is closed for screening.", field="site")
    check_not_future(birth_date, "birth_date")
    screened_on = screened_on or timezone.localdate()
    check_not_future(screened_on, "screened_on")
    if birth_date >= screened_on:
        raise InvalidInput("Must be before the screening date.", field="birth_date")
    check_body_size(height_cm=height_cm, weight_kg=weight_kg)
    protocol = study.current_protocol()
    if protocol is None:
        raise InvalidInput("The study has no protocol version loaded.", field="study")

    # Lock the site row: concurrent screenings at one site queue here, so subject numbers are
    # handed out one at a time (the unique constraint on site_sequence is the backstop).
    Site.objects.select_for_update().get(pk=site.pk)
    last = Patient.objects.filter(site=site).aggregate(last=Max("site_sequence"))["last"] or 0
    sequence = last + 1
    patient = Patient(
        study=study,
        site=site,
        site_sequence=sequence,
        subject_id=f"{site.code}-{sequence:04d}",
        sex=sex,
        birth_date=birth_date,
        height_cm=height_cm,
        weight_kg=weight_kg,
        screened_on=screened_on,
        protocol_version=protocol,
    )
    return save_audited(patient, actor=actor, reason="Patient screened")
