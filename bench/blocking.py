"""Is a write for patient B blocked while a long transaction for patient A holds its locks?

    .venv/bin/python bench/blocking.py [--hold 3]

Each scenario runs a write for patient A in one connection and keeps its transaction open for
`--hold` seconds (standing in for a long import or a slow client); meanwhile a lab result for
patient B is entered through the service in another connection. The wait is B's time minus B's
time on an idle database. Target (issue 12): never blocked for more than a second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import time
from decimal import Decimal

import common


def enter_lab_for(patient, number: int):
    from visits.labs.services import lab_result_create

    taken = dt.datetime.combine(common.DAY1 + dt.timedelta(days=30), dt.time(6), tzinfo=dt.UTC)
    return lab_result_create(
        actor=common.admin_user(),
        patient=patient,
        collected_at=taken + dt.timedelta(minutes=number),
        test_code="PLAT",
        value=Decimal(40 + number),
        unit="10^9/L",
    )


def holder_lab_import(patient):
    from visits.labs.bulk import json_rows, lab_results_import

    taken = dt.datetime.combine(common.DAY1 + dt.timedelta(days=40), dt.time(6), tzinfo=dt.UTC)
    rows = [
        {
            "patient": patient.subject_id,
            "test_code": "PLAT",
            "value": str(30 + n),
            "unit": "10^9/L",
            "collected_at": (taken + dt.timedelta(hours=n)).isoformat(),
            "accession": f"HOLD-{patient.pk}-{n}-{time.monotonic_ns()}",
        }
        for n in range(20)
    ]
    lab_results_import(actor=common.admin_user(), rows=json_rows(rows), source="hold.csv")


def holder_randomization(patient):
    from patients.randomization import patient_randomize

    patient_randomize(actor=common.admin_user(), patient=patient, randomized_at=common.DAY1)


def holder_lab_post(patient):
    enter_lab_for(patient, 500)


def run_scenario(holder, patient_a, patient_b, hold: float, number: int) -> float:
    """Seconds B's write took while A's transaction was open (or raised: B failed)."""
    from django.db import connection, transaction

    holding, done = threading.Event(), threading.Event()
    outcome: dict = {}

    def hold_a() -> None:
        try:
            with transaction.atomic():
                holder(patient_a)
                holding.set()
                done.wait(timeout=hold)
        except Exception as error:
            outcome["holder_error"] = repr(error)
            holding.set()
        finally:
            connection.close()

    def write_b() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{int((hold + 10) * 1000)}ms'")
            started = time.perf_counter()
            enter_lab_for(patient_b, number)
            outcome["seconds"] = time.perf_counter() - started
        except Exception as error:
            outcome["writer_error"] = repr(error)
        finally:
            connection.close()

    thread_a = threading.Thread(target=hold_a)
    thread_a.start()
    holding.wait(timeout=600)
    time.sleep(0.05)
    thread_b = threading.Thread(target=write_b)
    thread_b.start()
    thread_b.join()
    done.set()
    thread_a.join()
    if "holder_error" in outcome or "writer_error" in outcome:
        raise RuntimeError(outcome)
    return outcome["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hold", type=float, default=3.0, help="seconds A keeps its transaction")
    args = parser.parse_args()

    print(f"machine: {common.machine()}")
    common.create_database()
    from django.db import connection

    randomized = common.randomized_patients(4)
    ready = common.randomized_patients(1, randomize=False)
    patient_b = randomized[0]
    connection.close()

    idle = []
    for number in range(5):
        started = time.perf_counter()
        enter_lab_for(patient_b, number)
        idle.append(time.perf_counter() - started)
    idle_seconds = common.median(idle)

    scenarios = [
        ("lab import (20 rows) for A", holder_lab_import, randomized[1]),
        ("randomization of A", holder_randomization, ready[0]),
        ("lab POST for A", holder_lab_post, randomized[2]),
    ]
    rows, waits = [], []
    for number, (label, holder, patient_a) in enumerate(scenarios, start=10):
        seconds = run_scenario(holder, patient_a, patient_b, args.hold, number)
        wait = max(0.0, seconds - idle_seconds)
        waits.append(wait)
        rows.append([label, args.hold, 1000 * seconds, 1000 * wait, wait > 1.0])
    print()
    print(f"B's lab write on an idle database: {1000 * idle_seconds:.0f} ms (median of 5)")
    common.print_table(
        ["A holds its transaction open after", "hold s", "B's write ms", "B waited ms", "> 1 s"],
        rows,
    )
    print(
        f"ratios: longest wait of B {max(waits):.2f} s with A holding {args.hold:.1f} s "
        f"({max(waits) / args.hold:.2f} of the hold)"
    )


if __name__ == "__main__":
    main()
