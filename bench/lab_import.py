"""The lab import of N rows (with history and refreshed assessments) vs a COPY of the same rows.

    .venv/bin/python bench/lab_import.py [--rows 300] [--patients 10] [--profile]

Full target of issue 12: `--rows 100000 --patients 200`. The COPY writes the same rows into the
same table (with its indexes and constraints), in a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import time
from decimal import Decimal

import common

# (test code, unit, typical value, spread): a plausible mix of a haematology/chemistry feed.
PANEL = [
    ("PLAT", "10^9/L", 60, 50),
    ("HGB", "g/L", 115, 20),
    ("WBC", "10^9/L", 5, 2),
    ("ALT", "U/L", 30, 15),
    ("CREAT", "umol/L", 70, 15),
    ("TACRO", "ng/mL", 4, 2),
]


def import_rows(patients: list, count: int) -> list[dict]:
    start = dt.datetime.combine(common.DAY1 + dt.timedelta(days=1), dt.time(7), tzinfo=dt.UTC)
    rows = []
    for number in range(count):
        patient = patients[number % len(patients)]
        code, unit, typical, spread = PANEL[(number // len(patients)) % len(PANEL)]
        draw = number // (len(patients) * len(PANEL))
        value = Decimal(typical) + Decimal((number * 7919) % (2 * spread + 1) - spread)
        rows.append(
            {
                "patient": patient.subject_id,
                "test_code": code,
                "value": str(max(value, Decimal("0.5"))),
                "unit": unit,
                "collected_at": (start + dt.timedelta(minutes=10 * draw)).isoformat(),
                "accession": f"ACC-{number:07d}",
            }
        )
    return rows


def copy_same_rows(rows: list[dict], patients: list) -> float:
    """Seconds to COPY the rows, with every column the import stores, into labs_labresult."""
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    from ecrf.domain import units
    from visits.labs.models import LabResult

    by_subject = {p.subject_id: p.pk for p in patients}
    fields = [f for f in LabResult._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    now = timezone.now()
    instances = []
    for row in rows:
        value = Decimal(row["value"])
        instances.append(
            LabResult(
                patient_id=by_subject[row["patient"]],
                collected_at=parse_datetime(row["collected_at"]),
                test_code=row["test_code"],
                value=value,
                unit=row["unit"],
                value_std=units.to_standard(row["test_code"], value, row["unit"]),
                unit_std=units.standard_unit(row["test_code"]),
                source_accession=row["accession"],
                created_at=now,
                updated_at=now,
            )
        )
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor
            with raw.copy(f"COPY labs_labresult ({columns}) FROM STDIN") as copy:
                for instance in instances:
                    copy.write_row([getattr(instance, f.attname) for f in fields])
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--patients", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="print the import's top functions")
    args = parser.parse_args()

    print(f"machine: {common.machine()}")
    common.create_database()
    from django.db import connection

    from visits.labs.bulk import json_rows, lab_results_import
    from visits.labs.models import LabResult

    patients = common.randomized_patients(args.patients)
    rows = import_rows(patients, args.rows)
    copy_seconds = copy_same_rows(rows, patients)

    statements = {"count": 0}

    def count(execute, sql, params, many, context):
        statements["count"] += 1
        return execute(sql, params, many, context)

    before = LabResult.objects.count()
    before_history = LabResult.history.count()
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        if profiler:
            profiler.enable()
        report = lab_results_import(
            actor=common.admin_user(), rows=json_rows(rows), source="bench.csv"
        )
        if profiler:
            profiler.disable()
    import_seconds = time.perf_counter() - started
    stored = LabResult.objects.count() - before
    history = LabResult.history.count() - before_history
    assert report.created == args.rows == stored, (report.created, stored)

    print()
    common.print_table(
        ["what", "rows", "seconds", "rows/s", "SQL statements"],
        [
            ["COPY into labs_labresult", args.rows, copy_seconds, args.rows / copy_seconds, 1],
            [
                f"lab_results_import ({args.patients} patients)",
                args.rows,
                import_seconds,
                args.rows / import_seconds,
                statements["count"],
            ],
        ],
    )
    print(f"stored {stored} results and {history} lab history rows")
    if profiler:
        print()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    print(
        f"ratios: import/COPY {import_seconds / copy_seconds:.0f}x "
        f"({args.rows} rows, {args.patients} patients); "
        f"SQL statements per row {statements['count'] / args.rows:.2f}"
    )


if __name__ == "__main__":
    main()
