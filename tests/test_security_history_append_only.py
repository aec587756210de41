"""Issue 13, finding 6: on PostgreSQL the history tables and audit logs refuse UPDATE, DELETE
and TRUNCATE at the database level (triggers installed by migration ecrf 0004)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from ecrf.append_only import audit_tables
from ecrf.models import SecurityEvent
from trials.models import Study

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
]


def _refused(sql: str, params=()) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(refused.value)


def test_every_history_table_and_log_has_both_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'ecrf_append_only_%'"
        )
        installed = set(cursor.fetchall())
    expected = audit_tables(apps)
    assert len(expected) >= 30  # every audited model has a history table
    assert "trials_historicalstudy" in expected and "ecrf_securityevent" in expected
    missing = [
        (table, trigger)
        for table in expected
        for trigger in ("ecrf_append_only_row", "ecrf_append_only_truncate")
        if (table, trigger) not in installed
    ]
    assert missing == []


def test_history_rows_cannot_be_updated_deleted_or_truncated(study):
    history = Study.history.model
    row = history.objects.filter(id=study.pk).order_by("history_id").first()
    table = history._meta.db_table
    message = _refused(f"UPDATE {table} SET title = 'rewritten' WHERE history_id = %s", [row.pk])
    assert f"UPDATE on {table}: audit tables are append-only" in message
    message = _refused(f"DELETE FROM {table} WHERE history_id = %s", [row.pk])
    assert f"DELETE on {table}: audit tables are append-only" in message
    message = _refused(f"TRUNCATE {table} CASCADE")
    assert f"TRUNCATE on {table}: audit tables are append-only" in message
    row.refresh_from_db()
    assert row.title == study.title


def test_orm_update_of_history_is_refused_and_inserts_still_work(study):
    history = Study.history.model
    before = history.objects.filter(id=study.pk).count()
    with pytest.raises(DatabaseError), transaction.atomic():
        history.objects.filter(id=study.pk).update(title="rewritten")
    study.title = f"{study.title} (amended)"
    study._change_reason = "test"
    study.save()
    assert history.objects.filter(id=study.pk).count() == before + 1


def test_security_event_log_is_append_only():
    event = SecurityEvent.objects.create(kind=SecurityEvent.Kind.LOGIN, username="ann")
    with pytest.raises(DatabaseError), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).delete()
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


def test_maintenance_setting_is_ignored_for_a_role_that_is_not_superuser(study):
    history = Study.history.model
    table = history._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'ecrf_append_only_probe'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE ROLE ecrf_append_only_probe NOLOGIN")
    with (
        pytest.raises(DatabaseError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"GRANT ALL ON {table} TO ecrf_append_only_probe")
        cursor.execute("SET LOCAL ROLE ecrf_append_only_probe")
        cursor.execute("SET LOCAL ecrf.history_maintenance = 'on'")
        cursor.execute(f"DELETE FROM {table}")
    assert "DELETE on" in str(refused.value)
