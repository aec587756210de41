"""Issue 13, finding 12: the documented backup (pg_dump -Fc) restores (pg_restore) into a new
database holding every record and every history row, byte for byte (README, Backup)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from decimal import Decimal

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from ecrf.audit import update_audited
from patients.services import patient_create
from trials.models import Study
from trials.services import load_protocol

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def pg_env() -> dict[str, str]:
    settings = connection.settings_dict
    env = {**os.environ, "PGHOST": settings["HOST"] or "127.0.0.1"}
    env["PGPORT"] = str(settings["PORT"] or 5432)
    env["PGUSER"] = settings["USER"] or "postgres"
    if settings["PASSWORD"]:
        env["PGPASSWORD"] = settings["PASSWORD"]
    return env


def fingerprints(dbname: str, tables: list[str]) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over every row's text, per table."""
    env = pg_env()
    with psycopg.connect(
        host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"],
        password=env.get("PGPASSWORD"), dbname=dbname,
    ) as conn:  # fmt: skip
        out = {}
        for table in tables:
            row = conn.execute(
                "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{table}" t'
            ).fetchone()
            out[table] = (row[0], row[1])
        return out


def test_a_dump_restores_every_record_and_its_history(tmp_path):
    if not Study.objects.filter(registry_id="NCT03304288").exists():
        load_protocol("NCT03304288")
    study = Study.objects.get(registry_id="NCT03304288")
    actor = get_user_model().objects.create_superuser("backup-admin", password="x-Backup-2026")
    patient = patient_create(
        actor=actor, study=study, site=study.sites.get(code="PKUPH"), sex="F",
        birth_date=dt.date(1980, 5, 17), height_cm=Decimal("165.0"), weight_kg=Decimal("60.0"),
        screened_on=dt.date(2025, 1, 6),
    )  # fmt: skip
    update_audited(
        patient, changes={"weight_kg": Decimal("61.0")}, actor=actor, reason="Re-weighed",
        expected_version=patient.version,
    )  # fmt: skip

    source = connection.settings_dict["NAME"]
    target = f"{source}_restored"
    dump = tmp_path / "ecrf.dump"
    env = pg_env()
    subprocess.run(["pg_dump", "-Fc", "-d", source, "-f", str(dump)], env=env, check=True)
    subprocess.run(["dropdb", "--if-exists", "--force", target], env=env, check=True)
    subprocess.run(["createdb", target], env=env, check=True)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump)],
            env=env,
            check=True,
        )
        tables = connection.introspection.table_names()
        original, restored = fingerprints(source, tables), fingerprints(target, tables)
        assert restored == original
        history = "patients_historicalpatient"
        assert original[history][0] >= 2
        with psycopg.connect(
            host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"],
            password=env.get("PGPASSWORD"), dbname=target,
        ) as conn:  # fmt: skip
            reasons = conn.execute(
                f"SELECT history_change_reason FROM {history} WHERE id = %s ORDER BY history_id",
                [patient.pk],
            ).fetchall()
            triggers = conn.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ecrf_append_only_%'"
            ).fetchone()[0]
        assert [r[0] for r in reasons][-1] == "Re-weighed"
        assert triggers >= 60  # the restored history is append-only too
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", target], env=env, check=True)
