"""The SQL statements of one lab POST are a fixed number, however long the patient's history
(issue 12). The count covers the whole request: token authentication and the user's grants,
the patient's visibility, the write with its history row, and the live assessment refresh.
"""

from __future__ import annotations

import datetime as dt

import pytest

DAY1 = dt.date(2025, 1, 8)
# Authentication 2 (the token; the grants with their sites in one statement), patient 1,
# savepoint 1, lock 1, range table 1, baseline 1, result and history 2, the freeze/lock guard 1
# (one indexed look-up of an active lock through ecrf.write_guards, issue 14) (10, the lab
# write); the assessment refresh set off through ecrf.after_write 3 more: one statement reads the
# locked patient row with its current protocol version, stored assessment and whole course (each
# source a JSON array), then the assessment's update and history row; the edit checks 1 more
# (visits/review/edit_checks.py: one statement reads the patient with its protocol version's id
# and hash, the facts the checks set off by a lab need — its labs and visits, each a JSON array —
# and its system queries; those are locked and re-read only when one must be closed or raised,
# which this POST does not need); the release of the savepoint 1. The protocol's rules and edit
# checks are parsed once per version and process (the first POST), so they cost nothing here.
STATEMENTS_PER_LAB_POST = 15


def body(patient, number: int) -> dict:
    taken = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC) + dt.timedelta(hours=number)
    return {
        "patient": patient.pk,
        "collected_at": taken.isoformat(),
        "test_code": "PLAT",
        "value": str(30 + number % 50),
        "unit": "10^9/L",
    }


# PostgreSQL's count (the target of issue 12): elsewhere the course and the edit checks' facts,
# one JSON aggregate each here, are read source by source.
@pytest.mark.postgres
@pytest.mark.django_db
def test_a_lab_post_costs_a_fixed_number_of_statements(
    study, make_patient, place_on_arm, make_user, client_for, django_assert_num_queries
):
    patient = place_on_arm(make_patient(study, "PKUPH"), "DAN", day1=DAY1)
    client = client_for(make_user("cora", "coordinator", "NCT05471050", ["PKUPH"]))
    assert client.post("/api/lab-results/", body(patient, 0), format="json").status_code == 201
    with django_assert_num_queries(STATEMENTS_PER_LAB_POST):
        response = client.post("/api/lab-results/", body(patient, 1), format="json")
    assert response.status_code == 201
    for number in range(2, 32):
        client.post("/api/lab-results/", body(patient, number), format="json")
    assert patient.lab_results.count() == 32
    with django_assert_num_queries(STATEMENTS_PER_LAB_POST):
        response = client.post("/api/lab-results/", body(patient, 40), format="json")
    assert response.status_code == 201
    assert patient.lab_results.count() == 33
