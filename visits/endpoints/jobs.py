"""The full recompute as a job (`ecrf.jobs`): every allocated patient of the study reassessed."""

from __future__ import annotations

from patients.models import Patient
from visits.endpoints.services import in_chunks, refresh_patient_assessments

RECOMPUTE = "recompute_assessments"


def recompute_study(job, progress) -> dict:
    """In chunks of patients, each in its own transaction with a constant number of statements
    (`refresh_patient_assessments`), so a long recompute locks a few dozen patients at a time and
    a data entry for one of them waits at most for that chunk."""
    patient_ids = list(
        Patient.objects.filter(study_id=job.study_id, day1__isnull=False, is_voided=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    total = len(patient_ids)
    progress(0, total)
    changed = done = 0
    for chunk in in_chunks(patient_ids):
        changed += refresh_patient_assessments(
            chunk, actor=job.requested_by, reason=f"recompute_assessments (job {job.pk})"
        )
        done += len(chunk)
        progress(done, total)
    return {"patients": total, "changed": changed}
