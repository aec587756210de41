# The export log says who took which data out, when: on PostgreSQL it refuses UPDATE, DELETE and
# TRUNCATE like the history tables (ecrf/0004), so nobody can erase an export from the record.
from django.db import migrations

from ecrf.append_only import install_on, remove_from

EXPORT_LOG = ["exports_exportlog"]


def install(apps, schema_editor):
    install_on(schema_editor, EXPORT_LOG)


def remove(apps, schema_editor):
    remove_from(schema_editor, EXPORT_LOG)


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0001_initial"),
        ("ecrf", "0004_append_only_audit_tables"),
    ]

    operations = [migrations.RunPython(install, remove)]
