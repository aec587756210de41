"""Export time against the time to read the same rows, for a generated study.

    DATABASE_URL=postgres://... python bench/export.py [--patients 3000]

Needs a migrated database with the shipped protocols loaded (`manage.py migrate`,
`manage.py load_protocol --all`). The generated patients and lab results go into NCT03918265
inside a transaction that is rolled back at the end, so the database is left as it was.
For each format it prints the seconds to read every exported table's rows (one server-side cursor
per table, as the export does), the seconds of the whole export, the ratio and the bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402

from tests.test_exports_streaming import generate_patients  # noqa: E402
from trials.models import Study  # noqa: E402
from visits.exports.service import start_export  # noqa: E402
from visits.exports.streams import rows_of  # noqa: E402
from visits.exports.tables import TABLES, history_rows, study_rows  # noqa: E402


class Rollback(Exception):
    pass


def read_rows(study, export_format: str) -> int:
    reader = history_rows if export_format == "odm" else study_rows
    return sum(sum(1 for _ in rows_of(reader(t, study.pk, None, None))) for t in TABLES)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=3000)
    args = parser.parse_args()
    try:
        with transaction.atomic():
            study = Study.objects.get(registry_id="NCT03918265")
            site = study.sites.order_by("code").first()
            get_user_model().objects.create_superuser("bulk-writer", password="bench-only-2026")
            started = time.perf_counter()
            generate_patients(study, site, args.patients, start=90001)
            print(f"generated {args.patients} patients in {time.perf_counter() - started:.1f} s")
            user = get_user_model().objects.get(username="bulk-writer")
            header = ("format", "rows", "read s", "export s", "ratio", "bytes")
            print("{:<6} {:>8} {:>8} {:>9} {:>6} {:>11}".format(*header))
            for export_format in ("csv", "sdtm", "odm"):
                started = time.perf_counter()
                rows = read_rows(study, export_format)
                read = time.perf_counter() - started
                started = time.perf_counter()
                export = start_export(
                    user=user, study=study, export_format=export_format, as_of=None, channel="bench"
                )
                size = sum(len(chunk) for chunk in export.chunks)
                took = time.perf_counter() - started
                print(
                    f"{export_format:<6} {rows:>8} {read:>8.2f} {took:>9.2f} "
                    f"{took / read:>6.1f} {size:>11}"
                )
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
