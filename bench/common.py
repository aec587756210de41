"""What every benchmark shares: a scratch PostgreSQL database, Django set up on it, a small cohort
of randomized patients (through the product's services), gunicorn on loopback, a load generator
and the printed table.

A benchmark never touches another database: it creates `ecrf_bench_<pid>`, and drops it at exit.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import http.client
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
STUDY = "NCT05471050"  # randomized, one site, tacrolimus dosed to a trough
DAY1 = dt.date(2025, 1, 8)
# Every database a benchmark creates or drops starts with this (one per worktree on a shared
# server: BENCH_DB_PREFIX=ecrf_bench_<worktree>).
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "ecrf_bench")


# --- The scratch database ------------------------------------------------------------------------


def _admin_connection():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


def _schema_key() -> str:
    """A digest of everything a migrated, protocol-loaded database depends on."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("**/migrations/*.py")) + sorted(ROOT.glob("trials/protocols/*")):
        if ".venv" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def create_database() -> str:
    """Creates a fresh database, points Django at it (migrated, protocols loaded); dropped at exit.

    Migrating takes minutes on a busy 2-core machine, so the first run keeps a migrated copy
    as a template (`ecrf_bench_tpl_<digest of migrations and protocols>`) and later runs clone
    it; BENCH_NO_TEMPLATE=1 migrates from scratch and keeps nothing.
    """
    name = f"{DB_PREFIX}_{os.getpid()}"
    template = f"{DB_PREFIX}_tpl_{_schema_key()}"
    use_template = not os.environ.get("BENCH_NO_TEMPLATE")
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
        if use_template and exists:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    atexit.register(drop_database, name)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{base}/{name}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()
    if use_template and exists:
        return name
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_protocol", "--all", verbosity=0, stdout=io.StringIO())
    if use_template:
        connections.close_all()
        with _admin_connection() as conn:
            for old in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{DB_PREFIX}_tpl_%"]
            ).fetchall():
                conn.execute(f'DROP DATABASE IF EXISTS "{old[0]}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
    return name


def drop_database(name: str) -> None:
    from django.db import connections

    connections.close_all()
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- A cohort, through the services ------------------------------------------------------------

SCREENING_PANEL = [
    ("PLAT", "20", "10^9/L", None, None),
    ("WBC", "5.1", "10^9/L", "3.5", "9.5"),
    ("HGB", "121", "g/L", "115", "150"),
    ("ALT", "30", "U/L", "7", "40"),
    ("AST", "25", "U/L", "13", "35"),
    ("CREAT", "70", "umol/L", "45", "84"),
    ("BILI", "10", "umol/L", "0", "21"),
]


def admin_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_superuser": True, "is_staff": True}
    )
    return user


def coordinator_token() -> str:
    """A site coordinator's API token (the role that enters lab results day to day)."""
    from ecrf.tokens import issue_token
    from trials.access_grants import grant_access

    grant, _ = grant_access(
        username="bench-coordinator", role="coordinator", registry_id=STUDY, site_codes=[]
    )
    return issue_token(grant.user)[0]


def randomized_patients(
    count: int, *, allocation_slots: int | None = None, randomize: bool = True
) -> list:
    """`count` patients screened, consented, eligible and (unless not `randomize`) randomized on
    DAY1, through the services."""
    from patients.eligibility import eligibility_evaluate
    from patients.randomization import patient_randomize
    from patients.services import consent_record, patient_create
    from trials.models import Study
    from trials.randomization.models import AllocationList
    from trials.randomization.services import allocation_list_generate
    from visits.findings.services.ecog import ecog_assessment_create
    from visits.labs.services import lab_result_create

    actor = admin_user()
    study = Study.objects.get(registry_id=STUDY)
    if not AllocationList.objects.filter(study=study, active=True).exists():
        allocation_list_generate(
            actor=actor, study=study, seed=7, slots_per_stratum=allocation_slots or count + 40
        )
    site = study.sites.get()
    screened = DAY1 - dt.timedelta(days=5)
    patients = []
    for number in range(count):
        patient = patient_create(
            actor=actor,
            study=study,
            site=site,
            sex="F" if number % 3 else "M",
            birth_date=dt.date(1960 + number % 40, 1 + number % 12, 1 + number % 28),
            height_cm=Decimal("165"),
            weight_kg=Decimal(60 + number % 30),
            screened_on=screened,
        )
        taken = dt.datetime.combine(screened, dt.time(8, 0), tzinfo=dt.UTC)
        for code, value, unit, lln, uln in SCREENING_PANEL:
            lab_result_create(
                actor=actor,
                patient=patient,
                collected_at=taken,
                test_code=code,
                value=Decimal(value),
                unit=unit,
                lln=None if lln is None else Decimal(lln),
                uln=None if uln is None else Decimal(uln),
            )
        ecog_assessment_create(actor=actor, patient=patient, assessed_on=screened, score=1)
        consent_record(actor=actor, patient=patient, consented_at=screened, consent_version="1.0")
        criteria = study.current_protocol().eligibility_criteria.filter(rule__isnull=True)
        eligibility_evaluate(
            actor=actor,
            patient=patient,
            answers={c.code: c.kind == "inclusion" for c in criteria},
            evaluated_on=screened,
        )
        if randomize:
            patient_randomize(actor=actor, patient=patient, randomized_at=DAY1)
        patient.refresh_from_db()
        patients.append(patient)
    return patients


def seed_platelet_history(patient, count: int) -> None:
    """`count` earlier platelet results of `patient`, each with its history row (bench data only:
    written in bulk, so setting up a long history does not take minutes)."""
    from simple_history.utils import bulk_create_with_history

    from visits.labs.models import LabResult

    start = dt.datetime.combine(DAY1, dt.time(9, 0), tzinfo=dt.UTC)
    rows = []
    for number in range(count):
        value = Decimal(15 + (number * 37) % 140)
        rows.append(
            LabResult(
                patient=patient,
                collected_at=start + dt.timedelta(hours=6 * number),
                test_code="PLAT",
                value=value,
                unit="10^9/L",
                value_std=value,
                unit_std="10^9/L",
                source_accession=f"SEED-{patient.pk}-{number}",
            )
        )
    bulk_create_with_history(rows, LabResult, default_user=admin_user())


def lab_body(patient_id: int, number: int, *, start: dt.datetime | None = None) -> dict:
    """A plausible platelet count for `patient_id`, the `number`-th of a series (one an hour)."""
    start = start or dt.datetime.combine(DAY1 + dt.timedelta(days=200), dt.time(6), tzinfo=dt.UTC)
    return {
        "patient": patient_id,
        "collected_at": (start + dt.timedelta(minutes=7 * number)).isoformat(),
        "test_code": "PLAT",
        "value": str(20 + (number * 13) % 120),
        "unit": "10^9/L",
    }


# --- gunicorn ----------------------------------------------------------------------------------


class Gunicorn:
    """gunicorn serving bench.settings on 127.0.0.1 (sync workers, as the Dockerfile runs it)."""

    def __init__(self, *, workers: int, port: int) -> None:
        self.port = port
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings", PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments, loopback only
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "ecrf.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/api/")
                connection.getresponse().read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


@dataclass
class LoadResult:
    label: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_load(
    *,
    label: str,
    port: int,
    path: str,
    token: str,
    bodies_per_client: list,
    seconds: float,
    max_requests: int,
) -> LoadResult:
    """Each client posts its own bodies one after another (a new connection per request, as
    gunicorn's sync workers close them) until `seconds` or `max_requests` in total."""
    result = LoadResult(label=label, clients=len(bodies_per_client))
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    counter = {"sent": 0}

    def client(bodies) -> None:
        for body in bodies:
            with lock:
                if time.monotonic() >= stop_at or counter["sent"] >= max_requests:
                    return
                counter["sent"] += 1
            payload = json.dumps(body)
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            connection.request(
                "POST",
                path,
                body=payload,
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            response.read()
            connection.close()
            elapsed = time.perf_counter() - started
            with lock:
                if response.status == 201:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1
                    if result.errors <= 3:
                        print(f"  {label}: HTTP {response.status}", file=sys.stderr)

    threads = [threading.Thread(target=client, args=(b,)) for b in bodies_per_client]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


# --- Output ------------------------------------------------------------------------------------


def print_table(header: list[str], rows: list[list]) -> None:
    cells = [header] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for number, row in enumerate(cells):
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    cores = os.cpu_count()
    load = os.getloadavg()
    return f"{cores} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start"
