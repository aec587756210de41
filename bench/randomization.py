"""Concurrent randomizations through the real API (gunicorn): double allocations, throughput and
whether requests are served concurrently.

    .venv/bin/python bench/randomization.py [--patients 200] [--single 40] [--clients 8]

Preparation (not measured): `--patients + --single` patients screened (the screening panel),
consented and found eligible through the product's services, in one process, in batches of one
transaction each (`common.randomized_patients(..., randomize=False)`). That takes minutes on a
busy 2-core machine, so the first run keeps the prepared database as a template
(`<BENCH_DB_PREFIX>_rand_<schema digest>_<count>`) and later runs clone it.

Measured: `--single` randomizations by 1 client one after another, then `--patients`
randomizations by `--clients` concurrent clients (each POST /api/patients/<id>/randomize/ by a
data manager back-entering day 1, as every bench cohort is dated). Then, in the database:
- double allocations: slots holding the same patient twice or patients holding two slots
  (the one-to-one column forbids it; counted anyway), patients randomized without a slot, and
  slots whose arm disagrees with the patient's arm;
- overlap: each randomization's transaction spans its audited rows (the patient's history rows,
  the claimed slot's and the visit calendar's, all stamped inside it), so the maximum number of
  those spans open at one instant is how many randomizations the database served at once;
- while the concurrent phase runs, `pg_locks` is sampled every 20 ms: the lock waits seen, by
  lock type and relation.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from collections import Counter

import common

PREPARE_BATCH = 20


# --- The prepared database ---------------------------------------------------------------------


def prepared_database(count: int) -> tuple[str, bool]:
    """A scratch database with `count` eligible, unrandomized patients (and a list with room for
    them); cloned from a kept template when an earlier run prepared the same count."""
    template = f"{common.DB_PREFIX}_rand_{common._schema_key()}_{count}"
    with common._admin_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
    if exists and not os.environ.get("BENCH_NO_TEMPLATE"):
        name = f"{common.DB_PREFIX}_{os.getpid()}"
        with common._admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        import atexit

        atexit.register(common.drop_database, name)
        base = common.PG_ADMIN_URL.rsplit("/", 1)[0]
        os.environ["DATABASE_URL"] = f"{base}/{name}"
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
        os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
        import django

        django.setup()
        return name, True
    name = common.create_database()
    from django.db import connections, transaction

    made = 0
    while made < count:
        size = min(PREPARE_BATCH, count - made)
        with transaction.atomic():
            common.randomized_patients(size, allocation_slots=count + 40, randomize=False)
        made += size
        print(f"  prepared {made}/{count} patients", file=sys.stderr)
    if not os.environ.get("BENCH_NO_TEMPLATE"):
        connections.close_all()
        with common._admin_connection() as conn:
            for old in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                [f"{common.DB_PREFIX}_rand_%"],
            ).fetchall():
                conn.execute(f'DROP DATABASE IF EXISTS "{old[0]}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
    return name, False


def data_manager_token() -> str:
    """A data manager's API token: back-entering the cohort's day 1 is theirs to do."""
    from ecrf.tokens import issue_token
    from trials.access_grants import grant_access

    grant, _ = grant_access(
        username="bench-data-manager",
        role="data_manager",
        registry_id=common.STUDY,
        site_codes=[],
    )
    return issue_token(grant.user)[0]


# --- The load ----------------------------------------------------------------------------------


class Phase:
    def __init__(self, clients: int) -> None:
        self.clients = clients
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.seconds = 0.0
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def randomize_all(port: int, token: str, patient_ids: list[int], clients: int) -> Phase:
    """`clients` threads take the next patient from a shared queue until none is left."""
    phase = Phase(clients)
    queue = list(reversed(patient_ids))
    lock = threading.Lock()
    body = json.dumps({"randomized_at": common.DAY1.isoformat(), "reason": "bench"})

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                patient_id = queue.pop()
                phase.in_flight += 1
                phase.max_in_flight = max(phase.max_in_flight, phase.in_flight)
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            connection.request(
                "POST",
                f"/api/patients/{patient_id}/randomize/",
                body=body,
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            content = response.read()
            connection.close()
            elapsed = time.perf_counter() - started
            with lock:
                phase.in_flight -= 1
                phase.statuses[response.status] += 1
                if response.status == 201:
                    phase.latencies.append(elapsed)
                elif sum(phase.statuses.values()) - len(phase.latencies) <= 3:
                    print(f"  HTTP {response.status}: {content[:300]!r}", file=sys.stderr)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    return phase


class LockSampler:
    """Polls pg_locks of the scratch database every `interval` s in its own connection."""

    def __init__(self, database: str, interval: float = 0.02) -> None:
        import psycopg

        base = common.PG_ADMIN_URL.rsplit("/", 1)[0]
        self.connection = psycopg.connect(f"{base}/{database}", autocommit=True)
        self.interval = interval
        self.samples = 0
        self.samples_with_wait = 0
        self.waits: Counter = Counter()
        self.max_waiting = 0
        self.max_active = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.connection.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            waiting = self.connection.execute(
                "SELECT l.locktype, coalesce(l.relation::regclass::text, ''), l.mode"
                " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE NOT l.granted AND a.datname = current_database()"
            ).fetchall()
            active = self.connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            ).fetchone()[0]
            self.samples += 1
            self.max_active = max(self.max_active, active)
            self.max_waiting = max(self.max_waiting, len(waiting))
            if waiting:
                self.samples_with_wait += 1
            for row in waiting:
                self.waits[" ".join(part for part in row if part)] += 1
            time.sleep(self.interval)


# --- What the database holds afterwards ----------------------------------------------------------


def allocation_problems(patient_ids: list[int]) -> dict[str, int]:
    from django.db.models import Count, F

    from patients.models import Patient
    from trials.randomization.models import AllocationSlot

    slots = AllocationSlot.objects.filter(patient__isnull=False)
    return {
        "patients holding two slots": slots.values("patient")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        # A slot's history would show a second patient if a claim ever overwrote another's.
        "slots given to two patients (history)": AllocationSlot.history.filter(
            patient__isnull=False
        )
        .values("id")
        .annotate(n=Count("patient", distinct=True))
        .filter(n__gt=1)
        .count(),
        "randomized patients without a slot": Patient.objects.filter(
            pk__in=patient_ids, arm__isnull=False, allocation__isnull=True
        ).count(),
        "slots whose arm is not the patient's": slots.exclude(arm=F("patient__arm")).count(),
        "requested patients left unrandomized": Patient.objects.filter(
            pk__in=patient_ids, arm__isnull=True
        ).count(),
    }


def database_overlap(patient_ids: list[int], since) -> tuple[int, float]:
    """Max randomizations whose transaction spans overlapped, and their mean concurrency
    (summed span / wall time of all spans)."""
    from django.db.models import Max, Min

    from patients.models import Patient
    from trials.randomization.models import AllocationSlot
    from visits.models import Visit

    spans: dict[int, list] = {}

    def widen(patient_id, first, last) -> None:
        span = spans.setdefault(patient_id, [first, last])
        span[0], span[1] = min(span[0], first), max(span[1], last)

    for row in (
        Patient.history.filter(id__in=patient_ids, history_date__gte=since)
        .values("id")
        .annotate(first=Min("history_date"), last=Max("history_date"))
    ):
        widen(row["id"], row["first"], row["last"])
    for row in (
        Visit.history.filter(patient_id__in=patient_ids, history_date__gte=since)
        .values("patient_id")
        .annotate(first=Min("history_date"), last=Max("history_date"))
    ):
        widen(row["patient_id"], row["first"], row["last"])
    for row in AllocationSlot.objects.filter(patient_id__in=patient_ids).values(
        "patient_id", "allocated_at"
    ):
        widen(row["patient_id"], row["allocated_at"], row["allocated_at"])
    events = sorted(
        [(first, 1) for first, _ in spans.values()] + [(last, -1) for _, last in spans.values()],
        key=lambda event: (event[0], -event[1]),
    )
    open_now = most = 0
    for _, step in events:
        open_now += step
        most = max(most, open_now)
    if not spans:
        return 0, 0.0
    wall = (max(s[1] for s in spans.values()) - min(s[0] for s in spans.values())).total_seconds()
    busy = sum((last - first).total_seconds() for first, last in spans.values())
    return most, busy / wall if wall else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=200, help="randomized concurrently")
    parser.add_argument("--single", type=int, default=40, help="randomized by 1 client")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=18722)
    args = parser.parse_args()

    print(f"machine: {common.machine()}")
    started = time.perf_counter()
    database, cloned = prepared_database(args.patients + args.single)
    from django.db import connections
    from django.utils import timezone

    from patients.models import Patient, PatientStatus

    token = data_manager_token()
    ready = list(
        Patient.objects.filter(status=PatientStatus.ELIGIBLE, arm__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(ready) >= args.patients + args.single, len(ready)
    how = "cloned from the prepared template" if cloned else "prepared through the services"
    print(f"setup: {time.perf_counter() - started:.1f} s ({len(ready)} eligible patients, {how})")
    single_ids, concurrent_ids = ready[: args.single], ready[args.single :][: args.patients]
    connections.close_all()

    server = common.Gunicorn(workers=args.workers, port=args.port)
    # Warm every worker up (imports, connections) outside the measurement.
    for _ in range(2 * args.workers):
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        connection.request("GET", "/api/", headers={"Authorization": f"Token {token}"})
        connection.getresponse().read()
        connection.close()
    since_single = timezone.now()
    single = randomize_all(args.port, token, single_ids, 1)
    since_concurrent = timezone.now()
    with LockSampler(database) as sampler:
        concurrent = randomize_all(args.port, token, concurrent_ids, args.clients)
    server.stop()

    problems = allocation_problems(single_ids + concurrent_ids)
    single_overlap = database_overlap(single_ids, since_single)
    concurrent_overlap = database_overlap(concurrent_ids, since_concurrent)
    doubles = (
        problems["patients holding two slots"]
        + problems["slots given to two patients (history)"]
        + problems["slots whose arm is not the patient's"]
    )

    print()
    common.print_table(
        [
            "clients",
            "randomizations",
            "HTTP 201",
            "other",
            "seconds",
            "per s",
            "p50 ms",
            "p95 ms",
            "max in flight (client)",
            "max open in DB",
            "mean open in DB",
        ],
        [
            [
                phase.clients,
                len(ids),
                len(phase.latencies),
                sum(phase.statuses.values()) - len(phase.latencies),
                phase.seconds,
                phase.throughput,
                1000 * common.median(phase.latencies),
                1000 * sorted(phase.latencies)[int(0.95 * (len(phase.latencies) - 1))]
                if phase.latencies
                else float("nan"),
                phase.max_in_flight,
                overlap[0],
                overlap[1],
            ]
            for phase, ids, overlap in (
                (single, single_ids, single_overlap),
                (concurrent, concurrent_ids, concurrent_overlap),
            )
        ],
    )
    print()
    common.print_table(["checked in the database", "count"], list(map(list, problems.items())))
    print()
    print(
        f"pg_locks during the {args.clients}-client phase: {sampler.samples} samples, "
        f"{sampler.samples_with_wait} with a lock wait ({sampler.max_waiting} waiting at most), "
        f"at most {sampler.max_active} sessions active or in a transaction"
    )
    for what, seen in sampler.waits.most_common(8):
        print(f"  waited on {what}: in {seen} samples")
    print()
    print(
        f"ratios: double allocations {doubles}; "
        f"{args.clients} vs 1 client throughput {concurrent.throughput / single.throughput:.2f}x; "
        f"randomizations open at once in the DB at most {concurrent_overlap[0]} "
        f"(1 client: {single_overlap[0]}), mean {concurrent_overlap[1]:.2f}; "
        f"p50 {args.clients} clients / 1 client "
        f"{common.median(concurrent.latencies) / common.median(single.latencies):.2f}x"
    )


if __name__ == "__main__":
    main()
