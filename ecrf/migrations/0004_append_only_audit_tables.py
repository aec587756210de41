# Issue 13: on PostgreSQL, history tables and audit logs refuse UPDATE, DELETE and TRUNCATE.
from django.db import migrations

from ecrf.append_only import audit_tables, install_on, remove_from


def install(apps, schema_editor):
    install_on(schema_editor, audit_tables(apps))


def remove(apps, schema_editor):
    remove_from(schema_editor, audit_tables(apps))


class Migration(migrations.Migration):
    # After every app's latest migration, so that every history table exists.
    dependencies = [
        ("ecrf", "0003_apitoken_securityevent"),
        ("dosing", "0003_doseadjustment_adverse_event_foreign_key"),
        ("endpoints", "0001_initial"),
        ("findings", "0004_therapy_kind_transfusion"),
        ("labs", "0003_history_reason_text"),
        ("patients", "0003_history_reason_text"),
        ("randomization", "0002_history_reason_text"),
        ("safety", "0003_history_reason_text"),
        ("trials", "0002_history_reason_text"),
        ("visits", "0003_history_reason_text"),
    ]

    operations = [migrations.RunPython(install, remove)]
