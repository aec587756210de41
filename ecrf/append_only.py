"""Tamper evidence on PostgreSQL: audit tables accept INSERT only (issue 13, finding 6).

A trigger on every history table (and on the security event and allocation-view logs) raises
on UPDATE, DELETE and TRUNCATE, so the application's own database role cannot rewrite history.

Escape hatch, for the test suite's flush only: the trigger lets the statement through when the
session sets ``ecrf.history_maintenance = on`` *and* the session user is a superuser. A
superuser can disable triggers anyway (ALTER TABLE … DISABLE TRIGGER), so this grants nothing
new; the application's role must therefore not be a superuser in production (README, Security).
On SQLite this is a no-op.

A migration that adds a history table calls `install_on(schema_editor, [table])`;
tests/test_security_history_append_only.py fails if any history table lacks the trigger.
"""

from __future__ import annotations

FUNCTION_NAME = "ecrf_refuse_audit_rewrite"
TRIGGER_ROW = "ecrf_append_only_row"
TRIGGER_TRUNCATE = "ecrf_append_only_truncate"

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION_NAME}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('ecrf.history_maintenance', true), '') = 'on'
       AND current_setting('is_superuser') = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        IF TG_OP = 'UPDATE' THEN RETURN NEW; END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% on %: audit tables are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def audit_tables(apps) -> list[str]:
    """Every simple-history table of the migration state, plus the append-only logs."""
    tables = []
    for model in apps.get_models():
        names = {field.name for field in model._meta.get_fields()}
        if {"history_id", "history_type", "history_date"} <= names:
            tables.append(model._meta.db_table)
    tables += ["ecrf_securityevent", "randomization_allocationlistview"]
    return sorted(tables)


def install_on(schema_editor, tables: list[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in tables:
        schema_editor.execute(
            f"CREATE OR REPLACE TRIGGER {TRIGGER_ROW} BEFORE UPDATE OR DELETE ON {quote(table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION_NAME}()"
        )
        schema_editor.execute(
            f"CREATE OR REPLACE TRIGGER {TRIGGER_TRUNCATE} BEFORE TRUNCATE ON {quote(table)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION_NAME}()"
        )


def remove_from(schema_editor, tables: list[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for table in tables:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER_ROW} ON {quote(table)}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER_TRUNCATE} ON {quote(table)}")
