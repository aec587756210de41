"""Exports stream: the number of queries and the memory do not grow with the study's size.

The generated patients and lab results are test data only: written with bulk_create_with_history
(history rows included, as the ODM export reads them), not through the services.
"""

from __future__ import annotations

import datetime as dt
import tracemalloc
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from simple_history.utils import bulk_create_with_history

from patients.models import Patient
from trials.models import Site, Study
from visits.exports.service import start_export
from visits.labs.models import LabResult

# Bytes of Python memory at the peak of a whole export: a few chunks of rows (CHUNK_ROWS per
# table stream) and one subject's records, whatever the study's size.
MEMORY_BOUND = 10 * 1024 * 1024


def generate_patients(study: Study, site: Site, count: int, start: int) -> None:
    actor = get_user_model().objects.get(username="bulk-writer")
    version = study.current_protocol()
    patients = [
        Patient(
            study=study,
            site=site,
            subject_id=f"{site.code}-{n:05d}",
            site_sequence=n,
            sex="F" if n % 2 else "M",
            birth_date=dt.date(1970, 1, 1) + dt.timedelta(days=n),
            height_cm=Decimal("165.0"),
            weight_kg=Decimal("60.0"),
            screened_on=dt.date(2025, 1, 6),
            protocol_version=version,
            day1=dt.date(2025, 1, 10),
            status="enrolled",
        )
        for n in range(start, start + count)
    ]
    created = bulk_create_with_history(
        patients, Patient, batch_size=1000, default_user=actor, default_change_reason="bulk"
    )
    ids = list(
        Patient.objects.filter(site=site, site_sequence__gte=start).values_list("pk", flat=True)
    )
    assert len(ids) == len(created) == count
    labs = [
        LabResult(
            patient_id=pk,
            collected_at=dt.datetime(2025, 1, 8, 8, tzinfo=dt.UTC) + dt.timedelta(days=day),
            test_code="PLAT",
            value=Decimal(20 + day),
            unit="10^9/L",
            value_std=Decimal(20 + day),
            unit_std="10^9/L",
        )
        for pk in ids
        for day in (0, 14, 28)
    ]
    bulk_create_with_history(
        labs, LabResult, batch_size=2000, default_user=actor, default_change_reason="bulk"
    )


def measure(study: Study, export_format: str) -> tuple[int, int, int]:
    """(queries, peak traced bytes, bytes produced) of one whole export, nothing kept."""
    user = get_user_model().objects.get(username="bulk-writer")
    tracemalloc.start()
    with CaptureQueriesContext(connection) as queries:
        export = start_export(
            user=user, study=study, export_format=export_format, as_of=None, channel="test"
        )
        produced = sum(len(chunk) for chunk in export.chunks)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return len(queries.captured_queries), peak, produced


FORMATS = ("csv", "sdtm", "odm")


def test_export_queries_and_memory_do_not_grow_with_the_study(db):
    study = Study.objects.get(registry_id="NCT03918265")
    site = study.sites.order_by("code").first()
    get_user_model().objects.create_superuser("bulk-writer", password="bulk-writer-2026")
    generate_patients(study, site, 250, start=1)
    small = {export_format: measure(study, export_format) for export_format in FORMATS}

    generate_patients(study, site, 2250, start=251)
    large = {export_format: measure(study, export_format) for export_format in FORMATS}

    assert Patient.objects.filter(study=study).count() == 2500
    for export_format in FORMATS:
        small_queries, small_peak, small_size = small[export_format]
        large_queries, large_peak, large_size = large[export_format]
        assert large_size > 5 * small_size, export_format
        assert large_queries == small_queries, export_format
        assert large_peak < MEMORY_BOUND, export_format
        # Ten times the data; the peak grows only until each stream's chunk is full.
        assert large_peak < 3 * small_peak, export_format
