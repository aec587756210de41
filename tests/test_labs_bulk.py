"""Bulk import of lab results: JSON rows and the CSV command, idempotent on the accession."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from visits.labs.models import LabResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def patient(multisite_study, make_patient, coordinator):
    return make_patient(multisite_study, "PKUPH", actor=coordinator)


@pytest.fixture
def client(client_for, coordinator):
    return client_for(coordinator)


def row(patient, /, **overrides):
    values = {
        "patient": patient.subject_id,
        "test_code": "PLAT",
        "value": "85",
        "unit": "10^9/L",
        "lln": "150",
        "uln": "400",
        "collected_at": "2025-03-04T08:30:00+08:00",
        "accession": "A-1",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def bulk(client, rows, **options):
    return client.post("/api/lab-results/bulk/", {"rows": rows, **options}, format="json")


def test_rows_are_created_one_by_one_each_with_its_history(client, patient):
    rows = [
        row(patient),
        row(patient, test_code="HGB", value="10.5", unit="g/dL", lln="12", uln="16"),
        row(patient, accession="A-2", collected_at="2025-03-11T08:30:00+08:00", value="95"),
    ]
    response = bulk(client, rows, source="pkuph-2025-03.csv")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["created"], data["skipped"], data["failed"]) == (3, 0, 0)
    assert [r["line"] for r in data["rows"]] == [1, 2, 3]
    assert [r["status"] for r in data["rows"]] == ["created"] * 3
    stored = LabResult.objects.order_by("pk")
    assert [(r.test_code, r.value_std) for r in stored] == [
        ("PLAT", 85),
        ("HGB", 105),
        ("PLAT", 95),
    ]
    for result in stored:
        [entry] = result.history.all()
        assert entry.history_change_reason == "Bulk import pkuph-2025-03.csv"
        assert entry.history_user.username == "cora"


def test_sending_the_same_rows_again_skips_them(client, patient):
    rows = [row(patient), row(patient, accession="A-2", value="90")]
    assert bulk(client, rows).status_code == 201
    again = bulk(client, rows)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["skipped"]) == (0, 2)
    assert LabResult.objects.count() == 2
    assert all(r.history.count() == 1 for r in LabResult.objects.all())


def test_known_accession_with_different_content_is_an_error_and_never_overwrites(client, patient):
    assert bulk(client, [row(patient)]).status_code == 201
    response = bulk(client, [row(patient, value="20")])
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "rows.0.accession"
    assert error["line"] == 1
    assert "different content" in error["message"]
    assert LabResult.objects.get().value == 85


def test_one_bad_row_rejects_the_whole_file_and_names_every_bad_row(client, patient):
    rows = [
        row(patient),
        row(patient, accession="A-2", unit="furlongs"),
        row(patient, accession="A-3", value="-5"),
        row(patient, accession="A-4", patient="PKUPH-9999"),
    ]
    response = bulk(client, rows)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["field"], e["line"]) for e in errors] == [
        ("rows.1.unit", 2),
        ("rows.2.value", 3),
        ("rows.3.patient", 4),
    ]
    assert errors[2]["message"] == "line 4: PKUPH-9999: unknown patient."
    assert not LabResult.objects.exists()


def test_partial_import_keeps_the_good_rows(client, patient):
    rows = [row(patient), row(patient, accession="A-2", unit="furlongs")]
    response = bulk(client, rows, partial=True)
    assert response.status_code == 200
    data = response.json()
    assert (data["created"], data["failed"]) == (1, 1)
    assert data["rows"][1]["errors"][0]["field"] == "rows.1.unit"
    assert LabResult.objects.count() == 1


def test_duplicate_accession_within_one_file_is_an_error(client, patient):
    response = bulk(client, [row(patient), row(patient, value="86")])
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "rows.1.accession"
    assert error["message"] == "line 2: accession A-1 for PLAT of PKUPH-0001 repeats line 1."
    assert not LabResult.objects.exists()


BAD_ROWS = [
    ({"accession": None}, "accession"),
    ({"test_code": "XYZ"}, "test_code"),
    ({"value": "many"}, "value"),
    ({"collected_at": "yesterday"}, "collected_at"),
    ({"collected_at": "2025-03-04"}, "collected_at"),
    ({"collected_at": "2999-01-01T00:00:00Z"}, "collected_at"),
    ({"lln": "500"}, "lln"),
    ({"visit": "W99"}, "visit"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize("overrides,column", BAD_ROWS)
def test_bad_rows_name_the_row_and_column(client, patient, overrides, column):
    response = bulk(client, [row(patient, **overrides)])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == f"rows.0.{column}"
    assert not LabResult.objects.exists()


def test_a_time_without_offset_is_refused_naming_each_row_and_field(client, patient):
    rows = [
        row(patient, accession="A-1"),
        row(patient, accession="A-2", collected_at="2025-03-05T08:30:00"),
        row(patient, accession="A-3", collected_at="2025-03-06 08:30"),
    ]
    response = bulk(client, rows)
    assert response.status_code == 400
    assert [(e["field"], e["code"], e["message"]) for e in response.json()["errors"]] == [
        (
            "rows.1.collected_at",
            "naive",
            "line 2: '2025-03-05T08:30:00' has no UTC offset; give it "
            "(e.g. 2025-03-04T08:30:00+08:00 or ...T00:30:00Z).",
        ),
        (
            "rows.2.collected_at",
            "naive",
            "line 3: '2025-03-06 08:30' has no UTC offset; give it "
            "(e.g. 2025-03-04T08:30:00+08:00 or ...T00:30:00Z).",
        ),
    ]
    assert not LabResult.objects.exists()


def test_patient_of_a_foreign_site_is_unknown(client, multisite_study, make_patient):
    navy_patient = make_patient(multisite_study, "NAVY")
    response = bulk(client, [row(navy_patient)])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "rows.0.patient"
    assert not LabResult.objects.exists()


def test_subject_id_in_two_studies_needs_the_study(
    client_for, make_user, make_patient, study, multisite_study
):
    # Both studies have a site PKUPH, so both have a PKUPH-0001.
    user = make_user("dm", "data_manager", "NCT03304288")
    make_user("dm", "data_manager", "NCT05471050")
    ours = make_patient(multisite_study, "PKUPH", actor=user)
    make_patient(study, "PKUPH", actor=user)
    client = client_for(user)
    ambiguous = bulk(client, [row(ours)])
    assert ambiguous.status_code == 400
    assert "more than one study" in ambiguous.json()["errors"][0]["message"]
    named = bulk(client, [row(ours)], study=multisite_study.pk)
    assert named.status_code == 201
    assert LabResult.objects.get().patient == ours


# --- The CSV command ---------------------------------------------------------------------------

HEADER = "patient,test_code,value,unit,lln,uln,collected_at,accession,visit\n"


def write_csv(tmp_path, text: str, name: str = "labs.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_import(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_lab_results", str(path), "--user", "cora", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_a_csv_and_is_idempotent(tmp_path, coordinator, patient):
    path = write_csv(
        tmp_path,
        HEADER
        + "PKUPH-0001,PLAT,85,10^9/L,150,400,2025-03-04T08:30:00+08:00,A-1,\n"
        + "PKUPH-0001,CREAT,1.2,mg/dL,0.6,1.1,2025-03-04T08:30:00+08:00,A-1,\n",
    )
    out, _ = run_import(path)
    assert out.strip() == "labs.csv: 2 created, 0 skipped (already stored), 0 failed"
    out, _ = run_import(path)
    assert out.strip() == "labs.csv: 0 created, 2 skipped (already stored), 0 failed"
    creat = LabResult.objects.get(test_code="CREAT")
    assert (creat.value_std, creat.ctcae_grade) == (Decimal("106.104"), 1)
    assert creat.history.get().history_change_reason == "Bulk import labs.csv"


def test_command_reports_bad_rows_by_line_and_stores_nothing(tmp_path, coordinator, patient):
    path = write_csv(
        tmp_path,
        HEADER
        + "PKUPH-0001,PLAT,85,10^9/L,150,400,2025-03-04T08:30:00Z,A-1,\n"
        + "PKUPH-0001,PLAT,-85,10^9/L,150,400,2025-03-05T08:30:00Z,A-2,\n"
        + "PKUPH-0001,PLAT,90,10^9/L,150,400,2025-03-06T08:30:00Z,A-1,\n",
    )
    with pytest.raises(CommandError) as failure:
        run_import(path)
    assert str(failure.value) == "2 of 3 rows have errors; nothing was imported. (labs.csv)"
    assert not LabResult.objects.exists()


@pytest.mark.parametrize(
    "header,problem",
    [
        ("patient,test_code,value,unit,collected_at\n", "missing column(s) accession"),
        (
            "patient,test_code,valeu,unit,collected_at,accession\n",
            "missing column(s) value; unknown column(s) valeu",
        ),
        ("", "The file is empty"),
    ],
)
def test_command_refuses_a_bad_header(tmp_path, coordinator, patient, header, problem):
    data = "PKUPH-0001,PLAT,85,10^9/L,2025-03-04T08:30:00Z,A-1\n"
    path = write_csv(tmp_path, header + data if header else "")
    with pytest.raises(CommandError) as failure:
        run_import(path)
    assert str(failure.value).startswith("header: ")
    assert problem in str(failure.value)
    assert not LabResult.objects.exists()


def test_command_with_partial_keeps_good_rows_and_lists_errors(tmp_path, coordinator, patient):
    path = write_csv(
        tmp_path,
        HEADER
        + "PKUPH-0001,PLAT,85,10^9/L,150,400,2025-03-04T08:30:00Z,A-1,\n"
        + "PKUPH-0001,PLAT,85,bananas,150,400,2025-03-05T08:30:00Z,A-2,\n",
    )
    out, err = run_import(path, "--partial")
    assert out.strip() == "labs.csv: 1 created, 0 skipped (already stored), 1 failed"
    # The job's progress (one line when not on a terminal), then the rows' errors.
    progress, error = err.rstrip("\n").split("\n")
    assert progress.startswith("\r[" + "#" * 30 + "] 2/2 rows")
    assert error.startswith("line 3: unit 'bananas' is not accepted for PLAT")
    assert error.endswith("[unit]")
    assert LabResult.objects.count() == 1


def test_command_needs_a_known_user(tmp_path):
    path = write_csv(tmp_path, HEADER)
    with pytest.raises(CommandError, match="no user 'ghost'"):
        call_command("import_lab_results", str(path), "--user", "ghost")


def test_rows_are_graded_in_time_order_whatever_the_file_order(client, patient):
    later = row(patient, test_code="ALT", value="130", unit="U/L", lln="0", uln="40",
                collected_at="2025-03-01T08:00:00Z", accession="A-9")  # fmt: skip
    baseline = row(patient, test_code="ALT", value="80", unit="U/L", lln="0", uln="40",
                   collected_at="2025-01-20T08:00:00Z", accession="A-8")  # fmt: skip
    response = bulk(client, [later, baseline])
    assert response.status_code == 201
    assert [r["line"] for r in response.json()["rows"]] == [1, 2]
    graded = LabResult.objects.get(source_accession="A-9")
    assert (graded.ctcae_grade, graded.baseline_result.source_accession) == (1, "A-8")
    assert [r.history.count() for r in LabResult.objects.all()] == [1, 1]
