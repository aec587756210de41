"""Settings come from the environment; production mode passes Django's deployment checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DJANGO_MODE", "SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_passes_the_deploy_check_without_warnings(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="ecrf.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage(
        "check",
        DJANGO_MODE="production",
        ALLOWED_HOSTS="ecrf.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_MODE=production" in result.stderr


def test_database_defaults_to_a_sqlite_file_in_the_project():
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='ecrf.settings';"
        "from django.conf import settings;"
        "d=settings.DATABASES['default']; print(d['ENGINE'], d['NAME']);"
        "print(settings.USE_TZ, settings.TIME_ZONE)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines() == [
        f"django.db.backends.sqlite3 {ROOT / 'db.sqlite3'}",
        "True UTC",
    ]


# --- Persistent connections (issue 13, finding 11) --------------------------------------------

PRINT_CONN_MAX_AGE = (
    "import os, sys; sys.argv = ['manage.py', {command!r}]; "
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'ecrf.settings'); "
    "from django.conf import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])"
)


def conn_max_age(command: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "DB_CONN_MAX_AGE"}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_CONN_MAX_AGE.format(command=command)],
        cwd=ROOT,
        env={**base, "DATABASE_URL": "postgres://u@127.0.0.1:5432/x", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_connections_are_not_kept_unless_configured():
    assert conn_max_age("migrate") == "0"
    assert conn_max_age("migrate", DB_CONN_MAX_AGE="60") == "60"


def test_the_development_server_never_keeps_connections():
    assert conn_max_age("runserver", DB_CONN_MAX_AGE="60") == "0"
    assert conn_max_age("quickstart", DB_CONN_MAX_AGE="60") == "0"


def test_the_laptop_path_runs_every_shipped_trial_on_sqlite(tmp_path):
    """`make run`'s database is SQLite, which the suite (PostgreSQL) never touches otherwise: the
    quick start simulates a demo cohort in each shipped trial through every service — screening,
    consent, eligibility, randomization, visits, labs with edit checks and live assessments,
    bleeding, rescue, troughs, AEs — on a fresh SQLite file; a second run adds nothing; a cohort
    with NCT05694130's fixed-dose tacrolimus arm and a recompute follow. (The edit checks'
    PostgreSQL-only read once made every screening a 500 on a laptop.)"""
    database = f"sqlite:///{tmp_path}/laptop.sqlite3"
    started = run_manage("quickstart", "--no-serve", DATABASE_URL=database)
    assert started.returncode == 0, started.stderr
    cohorts = [line for line in started.stdout.splitlines() if " screened, " in line]
    assert [line.split(":")[0] for line in cohorts] == [
        "NCT03304288", "NCT03918265", "NCT05471050", "NCT05694130"
    ]  # fmt: skip
    assert all(line.split(": ", 1)[1].startswith("6 screened, ") for line in cohorts)
    again = run_manage("quickstart", "--no-serve", DATABASE_URL=database)
    assert again.returncode == 0, again.stderr
    assert " screened, " not in again.stdout
    simulated = run_manage(
        "simulate_cohort", "NCT05694130", "--patients", "2", "--seed", "2", DATABASE_URL=database
    )
    assert simulated.returncode == 0, simulated.stderr
    assert simulated.stdout.startswith("NCT05694130: 2 screened, "), simulated.stdout
    recomputed = run_manage("recompute_assessments", "NCT05471050", DATABASE_URL=database)
    assert recomputed.returncode == 0, recomputed.stderr
    assert recomputed.stdout.startswith("NCT05471050: 6 patients reassessed, 0 changed, in ")
