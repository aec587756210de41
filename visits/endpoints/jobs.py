"""The full recompute as a job (`ecrf.jobs`): every allocated patient of the study reassessed."""

from __future__ import annotations

from patients.models import Patient
from visits.endpoints.models import PatientAssessment
from visits.endpoints.services import refresh_patient_assessment

RECOMPUTE = "recompute_assessments"
PROGRESS_EVERY = 25  # patients between two progress writes


def recompute_study(job, progress) -> dict:
    """Each patient in its own transaction (through the refresh the write services use), so a
    long recompute locks one patient at a time and a data entry waits at most for that patient."""
    patient_ids = list(
        Patient.objects.filter(study_id=job.study_id, day1__isnull=False, is_voided=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    total = len(patient_ids)
    progress(0, total)
    before = _versions(patient_ids)
    for done, patient_id in enumerate(patient_ids, start=1):
        refresh_patient_assessment(
            patient_id, actor=job.requested_by, reason=f"recompute_assessments (job {job.pk})"
        )
        if done % PROGRESS_EVERY == 0 or done == total:
            progress(done, total)
    after = _versions(patient_ids)
    changed = sum(1 for pk in patient_ids if after.get(pk) != before.get(pk))
    return {"patients": total, "changed": changed}


def _versions(patient_ids: list[int]) -> dict[int, int]:
    return dict(
        PatientAssessment.objects.filter(patient_id__in=patient_ids).values_list(
            "patient_id", "version"
        )
    )
