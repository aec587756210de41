"""The lab import's writes, read back from the database: every result with its history row,
written with COPY on PostgreSQL exactly as Django's bulk_create and simple-history write them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from visits.labs import bulk_write
from visits.labs.bulk import ImportRejected, json_rows, lab_results_import
from visits.labs.models import LabResult
from visits.labs.services import reference_range_create
from visits.review.locks import DataLocked, lock_place

pytestmark = pytest.mark.django_db

# Compared between the two writers; ids, patient and write times differ by construction.
STORED = [
    f.attname
    for f in LabResult._meta.concrete_fields
    if f.attname
    not in (
        "id",
        "patient_id",
        "created_at",
        "updated_at",
        "baseline_result_id",
        "reference_range_id",
    )
]


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def pkuph(multisite_study):
    return multisite_study.sites.get(code="PKUPH")


@pytest.fixture
def creat_range(coordinator, pkuph):
    return reference_range_create(
        actor=coordinator,
        site=pkuph,
        test_code="CREAT",
        unit="umol/L",
        lln=Decimal("45"),
        uln=Decimal("84"),
        effective_from=dt.date(2024, 1, 1),
    )


def rows_for(patient) -> list[dict]:
    """A series per test whose first result (no day 1: the earliest) is the baseline of the
    later ones in the same file, a range from the site's table, a converted unit."""
    subject = patient.subject_id
    return [
        {"patient": subject, "test_code": "ALT", "value": "130", "unit": "U/L", "lln": "0",
         "uln": "40", "collected_at": "2025-03-01T08:00:00Z", "accession": "A-3"},
        {"patient": subject, "test_code": "ALT", "value": "80", "unit": "U/L", "lln": "0",
         "uln": "40", "collected_at": "2025-01-20T08:00:00Z", "accession": "A-1"},
        {"patient": subject, "test_code": "PLAT", "value": "60", "unit": "10^9/L", "lln": "150",
         "uln": "400", "collected_at": "2025-01-20T08:00:00+08:00", "accession": "A-2"},
        {"patient": subject, "test_code": "CREAT", "value": "1.5", "unit": "mg/dL",
         "collected_at": "2025-02-10T09:15:00+08:00", "accession": "A-4"},
        {"patient": subject, "test_code": "HGB", "value": "9.5", "unit": "g/dL", "lln": "12",
         "uln": "16", "collected_at": "2025-02-10T09:15:00+08:00", "accession": "A-5"},
    ]  # fmt: skip


def stored_rows(patient) -> list[tuple]:
    results = LabResult.objects.filter(patient=patient).order_by("pk")
    return [
        (
            *(getattr(r, name) for name in STORED),
            r.baseline_result and r.baseline_result.source_accession,
            r.reference_range_id,
        )
        for r in results
    ]


def history_rows(patient) -> list[tuple]:
    historical = LabResult.history.filter(patient_id=patient.pk).order_by("history_id")
    return [
        (
            *(getattr(h, name) for name in STORED),
            h.history_type,
            h.history_user.username,
            h.history_change_reason,
        )
        for h in historical
    ]


@pytest.mark.postgres  # the COPY path is the one under test
def test_copy_writes_the_rows_bulk_create_writes(
    coordinator, multisite_study, make_patient, creat_range, monkeypatch
):
    assert connection.vendor == "postgresql"
    by_copy = make_patient(multisite_study, "PKUPH", actor=coordinator)
    by_django = make_patient(multisite_study, "PKUPH", actor=coordinator)
    lab_results_import(actor=coordinator, rows=json_rows(rows_for(by_copy)), source="a.csv")
    monkeypatch.setattr(bulk_write, "copy_available", lambda: False)
    lab_results_import(actor=coordinator, rows=json_rows(rows_for(by_django)), source="a.csv")

    assert len(stored_rows(by_copy)) == 5
    assert stored_rows(by_copy) == stored_rows(by_django)
    assert len(history_rows(by_copy)) == 5
    assert history_rows(by_copy) == history_rows(by_django)


def test_each_result_is_stored_graded_with_its_own_history_row(
    coordinator, multisite_study, make_patient, creat_range
):
    patient = make_patient(multisite_study, "PKUPH", actor=coordinator)
    started = dt.datetime.now(tz=dt.UTC)
    report = lab_results_import(actor=coordinator, rows=json_rows(rows_for(patient)), source="f")
    assert [(r.line, r.status) for r in report.rows] == [(n, "created") for n in range(1, 6)]

    results = LabResult.objects.filter(patient=patient).order_by("pk")
    # Ids in collection order (file order among equal times), each with its report line.
    assert [r.source_accession for r in results] == ["A-2", "A-1", "A-4", "A-5", "A-3"]
    assert {row.accession: row.result_id for row in report.rows} == {
        r.source_accession: r.pk for r in results
    }
    by_accession = {r.source_accession: r for r in results}
    summary = {
        accession: (
            r.test_code,
            r.value_std,
            r.unit_std,
            r.lln_std,
            r.uln_std,
            r.range_source,
            r.indicator,
            r.ctcae_grade,
            r.baseline_result and r.baseline_result.source_accession,
        )
        for accession, r in by_accession.items()
    }
    assert summary == {
        "A-1": ("ALT", 80, "U/L", 0, 40, "result", "HIGH", 1, None),
        # Graded against A-1, a baseline stored in the same COPY.
        "A-3": ("ALT", 130, "U/L", 0, 40, "result", "HIGH", 1, "A-1"),
        "A-2": ("PLAT", 60, "10^9/L", 150, 400, "result", "LOW", None, None),
        # 1.5 mg/dL is 132.63 µmol/L, 1.58 × the table's ULN (84 µmol/L, sent back through mg/dL).
        "A-4": (
            "CREAT",
            Decimal("132.63"),
            "umol/L",
            Decimal("44.9969"),
            Decimal("83.9990"),
            "range_table",
            "HIGH",
            2,
            None,
        ),
        "A-5": ("HGB", 95, "g/L", 120, 160, "result", "LOW", 2, None),
    }
    assert by_accession["A-2"].ctcae_note == (
        "'Platelet count decreased' is excluded from suggestions by protocol NCT03304288 v1 "
        "(disease under study)."
    )
    assert by_accession["A-4"].reference_range_id == creat_range.pk
    # mg/dL as reported, the table's µmol/L limits converted to it.
    assert (by_accession["A-4"].unit, by_accession["A-4"].lln, by_accession["A-4"].uln) == (
        "mg/dL",
        Decimal("0.5089"),
        Decimal("0.9500"),
    )

    for result in results:
        [entry] = LabResult.history.filter(id=result.pk)
        assert (entry.history_type, entry.history_user_id, entry.history_change_reason) == (
            "+",
            coordinator.pk,
            "Bulk import f",
        )
        assert started <= entry.history_date == result.created_at
        if bulk_write.copy_available():
            # COPY writes the import's one instant; bulk_create stamps each row as it goes.
            assert result.updated_at == result.created_at
        else:
            assert result.created_at <= result.updated_at <= timezone.now()
        assert [getattr(entry, name) for name in STORED] == [
            getattr(result, name) for name in STORED
        ]
        assert (entry.baseline_result_id, entry.reference_range_id, entry.patient_id) == (
            result.baseline_result_id,
            result.reference_range_id,
            patient.pk,
        )


def test_sending_the_file_again_stores_nothing_more(coordinator, multisite_study, make_patient):
    patient = make_patient(multisite_study, "PKUPH", actor=coordinator)
    rows = [row for row in rows_for(patient) if row["test_code"] != "CREAT"]
    lab_results_import(actor=coordinator, rows=json_rows(rows), source="f")
    again = lab_results_import(actor=coordinator, rows=json_rows(rows), source="f")
    assert (again.created, again.skipped) == (0, 4)
    assert LabResult.objects.filter(patient=patient).count() == 4
    assert LabResult.history.filter(patient_id=patient.pk).count() == 4


def test_a_frozen_patient_refuses_the_import_after_an_open_one(
    coordinator, multisite_study, make_patient, make_user
):
    """The guard is asked once per patient, not only about the first row's."""
    open_patient = make_patient(multisite_study, "PKUPH", actor=coordinator)
    frozen = make_patient(multisite_study, "PKUPH", actor=coordinator)
    manager = make_user("dm", "data_manager", "NCT03304288", [])
    lock = lock_place(
        actor=manager, kind="freeze", scope="patient", reason="cleaning", patient=frozen
    )
    rows = rows_for(open_patient)[:2] + rows_for(frozen)[:2]
    with pytest.raises(DataLocked, match=f"freeze {lock.pk} of patient {frozen.pk}"):
        lab_results_import(actor=coordinator, rows=json_rows(rows), source="f")
    assert LabResult.objects.count() == 0
    assert LabResult.history.count() == 0


def test_a_bad_row_stores_nothing_with_copy_either(coordinator, multisite_study, make_patient):
    patient = make_patient(multisite_study, "PKUPH", actor=coordinator)
    rows = rows_for(patient)
    rows[2]["value"] = "sixty"
    with pytest.raises(ImportRejected) as rejected:
        lab_results_import(actor=coordinator, rows=json_rows(rows), source="f")
    assert [e["field"] for e in rejected.value.errors] == ["rows.2.value"]
    assert LabResult.objects.count() == LabResult.history.count() == 0
