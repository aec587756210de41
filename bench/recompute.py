"""Full recompute and the study report against reading the same rows.

    .venv/bin/python bench/recompute.py [--patients 1000] [--visits 26]

On a scratch PostgreSQL database: `--patients` randomized patients of NCT05471050 with a
platelet count at each of `--visits` visits (every 14 days from day 1) and a bleeding assessment
at every fourth visit, written in bulk with their history rows (bench data only: building them
through the services would take hours here). Then, in one run:
- the raw read: one SELECT per source table of every row the assessment reads (psycopg, all rows
  fetched), the floor;
- the recompute job (`recompute_assessments`, one transaction per chunk of patients), when half
  the assessments are new (first run) and when none changes (second run), with the longest
  chunk's transaction (how long a data entry for one of its patients can wait);
- the stored report and the `as_of` report (recomputed from the audit history), with their SQL
  statements at half and at all of the patients (constant when the two are equal).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import time
from decimal import Decimal

import common

SOURCE_TABLES = (
    "patients_patient",
    "labs_labresult",
    "findings_bleedingassessment",
    "findings_rescuetherapy",
    "findings_essdaiassessment",
    "findings_esspriassessment",
    "visits_visit",
)


def generate(study, count: int, visits: int, offset: int) -> list[int]:
    from simple_history.utils import bulk_create_with_history

    from patients.models import Patient, PatientStatus
    from visits.findings.models import BleedingAssessment
    from visits.labs.models import LabResult

    actor = common.admin_user()
    site = study.sites.get()
    arms = list(study.arms.order_by("code"))
    version = study.current_protocol()
    patients = [
        Patient(
            study=study,
            site=site,
            subject_id=f"{site.code}-B{n:05d}",
            site_sequence=10000 + n,
            sex="F" if n % 3 else "M",
            birth_date=dt.date(1960, 1, 1) + dt.timedelta(days=37 * n % 12000),
            height_cm=Decimal("165.0"),
            weight_kg=Decimal("60.0"),
            screened_on=common.DAY1 - dt.timedelta(days=5),
            protocol_version=version,
            arm=arms[n % len(arms)],
            day1=common.DAY1,
            status=PatientStatus.RANDOMIZED,
        )
        for n in range(offset, offset + count)
    ]
    bulk_create_with_history(patients, Patient, batch_size=1000, default_user=actor)
    ids = list(
        Patient.objects.filter(subject_id__in=[p.subject_id for p in patients]).values_list(
            "pk", flat=True
        )
    )
    start = dt.datetime.combine(common.DAY1, dt.time(8), tzinfo=dt.UTC)
    labs, bleeding = [], []
    for pk in ids:
        for visit in range(visits):
            value = Decimal(15 + (pk * 7 + visit * 23) % 160)
            labs.append(
                LabResult(
                    patient_id=pk,
                    collected_at=start + dt.timedelta(days=14 * visit),
                    test_code="PLAT",
                    value=value,
                    unit="10^9/L",
                    value_std=value,
                    unit_std="10^9/L",
                    source_accession=f"B-{pk}-{visit}",
                )
            )
            if visit % 4 == 1:
                bleeding.append(
                    BleedingAssessment(
                        patient_id=pk,
                        assessed_at=common.DAY1 + dt.timedelta(days=14 * visit),
                        who_grade=(pk + visit) % 3,
                    )
                )
    bulk_create_with_history(labs, LabResult, batch_size=5000, default_user=actor)
    bulk_create_with_history(bleeding, BleedingAssessment, batch_size=5000, default_user=actor)
    return ids


def raw_read(ids: list[int]) -> tuple[float, int]:
    from django.db import connection

    started = time.perf_counter()
    rows = 0
    with connection.cursor() as cursor:
        for table in SOURCE_TABLES:
            column = "id" if table == "patients_patient" else "patient_id"
            cursor.execute(f"SELECT * FROM {table} WHERE {column} = ANY(%s)", [ids])  # noqa: S608
            rows += len(cursor.fetchall())
    return time.perf_counter() - started, rows


def timed_report(study, as_of) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from visits.endpoints.report import study_report

    version = study.current_protocol()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        study_report(study, protocol_version=version, as_of=as_of)
    return time.perf_counter() - started, len(queries)


def recompute(study) -> tuple[float, dict, list[float]]:
    """The job's time, result and the duration of each chunk's transaction (how long a chunk's
    patients stay locked: the longest a data entry for one of them can wait)."""
    from ecrf.jobs import create_job, run_job
    from visits.endpoints import jobs

    chunk_seconds = []
    refresh_chunk = jobs.refresh_patient_assessments

    def timed_chunk(*args, **kwargs):
        started = time.perf_counter()
        try:
            return refresh_chunk(*args, **kwargs)
        finally:
            chunk_seconds.append(time.perf_counter() - started)

    job = create_job(kind="recompute_assessments", study=study, actor=None, parameters={})
    jobs.refresh_patient_assessments = timed_chunk
    try:
        started = time.perf_counter()
        job = run_job(job.pk)
        elapsed = time.perf_counter() - started
    finally:
        jobs.refresh_patient_assessments = refresh_chunk
    assert job.state == "done", job.error
    return elapsed, job.result, chunk_seconds


def chunks_detail(chunk_seconds: list[float]) -> str:
    from visits.endpoints.services import CHUNK_SIZE

    return (
        f"{len(chunk_seconds)} chunks of {CHUNK_SIZE}: transaction longest "
        f"{max(chunk_seconds):.3f} s, mean {sum(chunk_seconds) / len(chunk_seconds):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--visits", type=int, default=26)
    parser.add_argument(
        "--profile", action="store_true", help="where the recompute spends time, nothing changed"
    )
    parser.add_argument(
        "--no-as-of",
        action="store_true",
        help="skip the as_of report (10,000 patients: its lab query ran > 9 min, bench/README.md)",
    )
    parser.add_argument(
        "--chunk", type=int, help="patients per recompute transaction (default: CHUNK_SIZE)"
    )
    args = parser.parse_args()
    print(f"machine: {common.machine()}")
    started = time.perf_counter()
    common.create_database()
    from django.utils import timezone

    from trials.models import Study

    study = Study.objects.get(registry_id=common.STUDY)
    if args.chunk:
        from visits.endpoints import services

        services.CHUNK_SIZE = args.chunk
    half = args.patients // 2
    ids = generate(study, half, args.visits, 0)
    recompute(study)
    _, half_stored_queries = timed_report(study, None)
    if not args.no_as_of:
        _, half_as_of_queries = timed_report(study, timezone.now())
    ids += generate(study, args.patients - half, args.visits, half)
    print(f"setup: {time.perf_counter() - started:.1f} s ({len(ids)} patients)")

    read_s, rows = min(raw_read(ids) for _ in range(3))
    first_s, first, first_chunks = recompute(study)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    again_s, again, again_chunks = recompute(study)
    if profiler:
        profiler.disable()
    stored_s, stored_queries = min(timed_report(study, None) for _ in range(2))
    cut = timezone.now()
    as_of_s, as_of_queries = (
        (float("nan"), 0) if args.no_as_of else min(timed_report(study, cut) for _ in range(2))
    )
    if args.no_as_of:
        half_as_of_queries = 0

    print()
    common.print_table(
        ["measured", "seconds", "× raw read", "detail"],
        [
            ["raw SELECT of the rows", read_s, 1.0, f"{rows} rows, {len(SOURCE_TABLES)} tables"],
            [
                "recompute job (half the assessments new)",
                first_s,
                first_s / read_s,
                f"{first['patients']} patients, {first['changed']} changed",
            ],
            [
                "recompute job, nothing changed",
                again_s,
                again_s / read_s,
                f"{again['patients']} patients, {again['changed']} changed",
            ],
            [
                "stored report",
                stored_s,
                stored_s / read_s,
                f"{stored_queries} statements ({half_stored_queries} at {half} patients)",
            ],
            [
                "as_of report",
                as_of_s,
                as_of_s / read_s,
                f"{as_of_queries} statements ({half_as_of_queries} at {half} patients)",
            ],
        ],
    )
    print()
    print(f"recompute, half new: {chunks_detail(first_chunks)}")
    print(f"recompute, unchanged: {chunks_detail(again_chunks)}")
    print(
        f"ratios: recompute/read {first_s / read_s:.1f}x (unchanged {again_s / read_s:.1f}x); "
        f"report/read {stored_s / read_s:.1f}x; as_of report/read {as_of_s / read_s:.1f}x; "
        f"statements constant: {stored_queries == half_stored_queries} (stored), "
        f"{as_of_queries == half_as_of_queries} (as_of)"
    )

    if profiler:
        print()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(
            "refresh_patient_assessments|_patient_states|assess_patient|evaluate_endpoints|"
            "assess_visits|course_from_annotations|execute_sql|as_sql|save_many_audited|"
            "bulk_update|bulk_create|bulk_history_create|validate_for_save"
        )


if __name__ == "__main__":
    main()
