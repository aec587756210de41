"""A lab import as a job (`ecrf.jobs`): the file's rows imported by `lab_results_import`.

The rows come from a CSV file (`import_lab_results`) or from the API's bulk request with
`background` (JSON rows). The import is one transaction (all or nothing unless partial), so its
progress moves from 0 to all rows when it commits; the job's result is the import's report (a
refused import: the job failed, its error the refusal and its result the rows' errors).
"""

from __future__ import annotations

from visits.labs.bulk import json_rows, lab_results_import, read_lab_csv

LAB_IMPORT = "lab_import"
ERRORS_KEPT = 200  # errors listed on the job (all are counted)


def import_lab_file(job, progress) -> dict:
    parameters = job.parameters
    # A file from the command, or the JSON rows of `POST /api/lab-results/bulk/` in the background.
    rows = (
        json_rows(parameters["rows"]) if "rows" in parameters else read_lab_csv(parameters["csv"])
    )
    progress(0, len(rows))
    report = lab_results_import(
        actor=job.requested_by,
        rows=rows,
        source=parameters["source"],
        study=job.study,
        partial=parameters.get("partial", False),
    )
    progress(len(rows), len(rows))
    return {
        "source": parameters["source"],
        "created": report.created,
        "skipped": report.skipped,
        "failed": report.failed,
        "errors": report.errors[:ERRORS_KEPT],
    }
