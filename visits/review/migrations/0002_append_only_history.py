# Issue 14: the review app's history tables are append-only on PostgreSQL, like every other.
from django.db import migrations

from ecrf.append_only import install_on, remove_from

TABLES = ["review_historicalquery", "review_historicaldatalock"]


def install(apps, schema_editor):
    install_on(schema_editor, TABLES)


def remove(apps, schema_editor):
    remove_from(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0001_queries_and_data_locks"),
        ("ecrf", "0004_append_only_audit_tables"),
    ]

    operations = [migrations.RunPython(install, remove)]
