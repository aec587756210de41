"""The chunked recompute (issue 12): a chunk of patients reassessed in one transaction with a
constant number of statements stores exactly what the live, one-patient refresh stores — the
same visits, endpoints and versions, a history row with the same user and reason for each
change, none when nothing changed."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from patients.models import Patient
from visits.endpoints.models import PatientAssessment
from visits.endpoints.services import (
    refresh_assessments,
    refresh_patient_assessment,
    refresh_patient_assessments,
)
from visits.simulation import simulate_cohort

pytestmark = pytest.mark.django_db

STALE_VISITS = [{"date": "2000-01-01", "visit": "STALE"}]
STORED = ("version", "protocol_version_id", "evaluated_on", "visits", "endpoints", "created_at")
HISTORY = ("history_type", "history_user_id", "history_change_reason", "version", "visits",
           "endpoints")  # fmt: skip


@pytest.fixture
def cohort(study, make_user) -> tuple[list[int], object]:
    """Six randomized patients of NCT05471050 with stored assessments, in three states: two
    stale (a plain update, no history), two without an assessment, two current."""
    simulate_cohort(study, patients=6, seed=5)
    ids = list(
        Patient.objects.filter(study=study, day1__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(ids) == 6
    PatientAssessment.objects.filter(patient_id__in=ids[0:2]).update(visits=STALE_VISITS)
    PatientAssessment.objects.filter(patient_id__in=ids[2:4]).delete()
    return ids, make_user("dora", "data_manager", "NCT05471050")


def _stored(ids: list[int]) -> dict[int, tuple]:
    rows = PatientAssessment.objects.filter(patient_id__in=ids).values_list("patient_id", *STORED)
    return {patient_id: tuple(values) for patient_id, *values in rows}


def _history(ids: list[int], since: int) -> dict[int, list[tuple]]:
    rows = (
        PatientAssessment.history.filter(patient_id__in=ids, history_id__gt=since)
        .order_by("history_id")
        .values_list("patient_id", *HISTORY)
    )
    written: dict[int, list[tuple]] = {}
    for patient_id, *values in rows:
        written.setdefault(patient_id, []).append(tuple(values))
    return written


def _written_by(refresh, ids: list[int]) -> tuple[dict, dict]:
    """What a refresh stores, read back from the database, then rolled back."""
    since = PatientAssessment.history.order_by("-history_id").values_list("history_id", flat=True)[
        0
    ]
    with transaction.atomic():
        refresh()
        written = _stored(ids), _history(ids, since)
        transaction.set_rollback(True)
    return written


def test_a_chunk_stores_what_the_one_patient_refresh_stores(cohort):
    ids, actor = cohort
    before = _stored(ids)

    def one_by_one():
        for patient_id in ids:
            refresh_patient_assessment(patient_id, actor=actor, reason="recompute (job 7)")

    def chunked():
        assert refresh_patient_assessments(ids, actor=actor, reason="recompute (job 7)") == 4

    one_stored, one_history = _written_by(one_by_one, ids)
    chunk_stored, chunk_history = _written_by(chunked, ids)

    # Equal but for the creation time of the two created in each run.
    assert {pk: row[:-1] for pk, row in chunk_stored.items()} == {
        pk: row[:-1] for pk, row in one_stored.items()
    }
    assert [chunk_stored[pk][-1] for pk in ids[0:2]] == [before[pk][-1] for pk in ids[0:2]]
    assert chunk_history == one_history
    # Stale ones: their next version; missing ones: created; current ones: untouched, and
    # only the four changes have a history row, with the job's user and reason.
    assert [chunk_stored[pk][0] for pk in ids] == [
        before[ids[0]][0] + 1,
        before[ids[1]][0] + 1,
        1,
        1,
        before[ids[4]][0],
        before[ids[5]][0],
    ]
    assert chunk_stored[ids[4]] == before[ids[4]]
    assert chunk_stored[ids[5]] == before[ids[5]]
    assert chunk_stored[ids[0]][3] != STALE_VISITS
    assert sorted(chunk_history) == ids[0:4]
    assert [(rows[0][0], rows[0][1], rows[0][2]) for _, rows in sorted(chunk_history.items())] == [
        ("~", actor.pk, "Endpoints recomputed: recompute (job 7)"),
        ("~", actor.pk, "Endpoints recomputed: recompute (job 7)"),
        ("+", actor.pk, "Endpoints recomputed: recompute (job 7)"),
        ("+", actor.pk, "Endpoints recomputed: recompute (job 7)"),
    ]
    assert all(len(rows) == 1 for rows in chunk_history.values())
    # Each history row holds the stored state it records.
    assert [chunk_history[pk][0][3:] for pk in ids[0:4]] == [
        (chunk_stored[pk][0], chunk_stored[pk][3], chunk_stored[pk][4]) for pk in ids[0:4]
    ]


@pytest.mark.postgres  # elsewhere the courses are read source by source
def test_a_chunk_reads_and_writes_in_the_same_statements_whatever_its_size(cohort, study):
    ids, actor = cohort
    simulate_cohort(study, patients=4, seed=6)
    more = list(
        Patient.objects.filter(study=study, day1__isnull=False)
        .exclude(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(more) == 4
    PatientAssessment.objects.filter(patient_id__in=more[0:2]).update(visits=STALE_VISITS)
    PatientAssessment.objects.filter(patient_id__in=more[2:4]).delete()
    small = [ids[0], ids[2]]  # one stale, one missing
    large = [*ids, *more]  # four stale, four missing, two current
    refresh_patient_assessment(ids[5], actor=actor, reason="warm")  # protocol rules parsed

    with CaptureQueriesContext(connection) as small_queries:
        assert refresh_patient_assessments(small, actor=actor, reason="chunk") == 2
    with CaptureQueriesContext(connection) as large_queries:
        assert refresh_patient_assessments(large, actor=actor, reason="chunk") == 6

    # The read (rows locked, courses, stored assessments), the insert and its history rows,
    # the update and its history rows.
    assert len(small_queries) == len(large_queries) == 5
    locking = [q["sql"] for q in large_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 1
    assert locking[0].endswith('FOR UPDATE OF "patients_patient"')


def test_nothing_changed_writes_nothing(cohort):
    ids, actor = cohort
    refresh_assessments(set(ids), actor=actor, reason="first")
    stored = _stored(ids)
    history_rows = PatientAssessment.history.count()

    with CaptureQueriesContext(connection) as queries:
        assert refresh_patient_assessments(ids, actor=actor, reason="again") == 0

    # One statement on PostgreSQL (elsewhere one more per source of the course), no write.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 7)
    assert not [q for q in queries if not q["sql"].startswith("SELECT")]
    assert _stored(ids) == stored
    assert PatientAssessment.history.count() == history_rows
