"""The CTCAE v5.0 dictionary (built-in set, NCI import) and lab grading over the API."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from ecrf.data import CTCAE_V5_WORKBOOK
from ecrf.domain.ctcae_terms import BUILTIN_TERMS
from visits.safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db

# The official NCI workbook ships inside the product (ecrf/data/ctcae, public domain).
NCI_WORKBOOK = CTCAE_V5_WORKBOOK


@pytest.fixture
def client(client_for, make_user):
    return client_for(make_user("mo", "monitor", "NCT03304288"))


# --- Built-in set --------------------------------------------------------------------------------


def test_builtin_terms_are_always_present_with_their_history():
    terms = CtcaeTerm.objects.filter(ctcae_version="5.0")
    assert terms.count() == len(BUILTIN_TERMS) == 88
    assert set(terms.values_list("source", flat=True)) == {"builtin"}
    bruising = terms.get(term="Bruising")
    assert (bruising.meddra_code, bruising.existing_grades) == ("10006504", [1, 2])
    assert bruising.grade3 is None
    assert bruising.history.get().history_change_reason == "Built-in CTCAE v5.0 term set"


def test_every_term_the_lab_grading_can_suggest_is_in_the_builtin_set():
    from ecrf.domain.ctcae_grading import LAB_TERMS

    codes = set(CtcaeTerm.objects.values_list("meddra_code", flat=True))
    assert {criteria.meddra_code for criteria in LAB_TERMS} <= codes


def test_dictionary_is_searchable_and_paged(client):
    response = client.get("/api/ctcae/terms/", {"search": "bruis"})
    assert response.status_code == 200
    [term] = response.json()["results"]
    assert term["term"] == "Bruising"
    assert term["existing_grades"] == [1, 2]
    assert term["grade1"] == "Localized or in a dependent area"
    assert term["grade3"] is None
    by_code = client.get("/api/ctcae/terms/", {"search": "10035528"}).json()["results"]
    assert [t["term"] for t in by_code] == ["Platelet count decreased"]


def test_dictionary_needs_authentication(api_client_plain):
    assert api_client_plain.get("/api/ctcae/terms/").status_code in (401, 403)
    assert api_client_plain.post("/api/ctcae/grade/", {}, format="json").status_code in (401, 403)


# --- The official NCI workbook -------------------------------------------------------------------


def run_import(path, *args):
    out = StringIO()
    call_command("import_ctcae", str(path), *args, stdout=out)
    return out.getvalue().strip()


def test_nci_workbook_imports_completely_and_idempotently(make_user):
    assert NCI_WORKBOOK.is_file(), f"the NCI workbook is missing: {NCI_WORKBOOK}"
    make_user("dm", "data_manager", "NCT03304288")
    first = run_import(NCI_WORKBOOK, "--user", "dm")
    assert first == (
        "CTCAE v5.0: 837 terms in CTCAE_v5.0_2017-11-27.xlsx — 749 created, 0 updated, 88 unchanged"
    )
    assert CtcaeTerm.objects.count() == 837
    assert CtcaeTerm.objects.values("soc").distinct().count() == 26
    imported = CtcaeTerm.objects.get(term="Sinus tachycardia")
    assert (imported.source, imported.existing_grades) == ("nci", [1, 2, 3])
    entry = imported.history.get()
    assert entry.history_change_reason == "CTCAE v5.0 import CTCAE_v5.0_2017-11-27.xlsx"
    assert entry.history_user.username == "dm"

    again = run_import(NCI_WORKBOOK)
    assert again.endswith("0 created, 0 updated, 837 unchanged")
    assert CtcaeTerm.history.count() == 837


def test_import_without_a_path_loads_the_shipped_workbook():
    out = StringIO()
    call_command("import_ctcae", stdout=out)
    assert out.getvalue().strip() == (
        "CTCAE v5.0: 837 terms in CTCAE_v5.0_2017-11-27.xlsx — 749 created, 0 updated, 88 unchanged"
    )
    assert CtcaeTerm.objects.count() == 837


def test_changed_term_text_is_updated_with_history(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["MedDRA Code", "MedDRA SOC", "CTCAE Term", "Grade 1", "Grade 2", "Grade 3",
                  "Grade 4", "Grade 5", "Definition"])  # fmt: skip
    sheet.append([10006504, "Vascular disorders", "Bruising", "Localized", "Generalized",
                  "-", "-", "-", "Changed definition"])  # fmt: skip
    path = tmp_path / "amended.xlsx"
    workbook.save(path)
    assert run_import(path).endswith("0 created, 1 updated, 0 unchanged")
    bruising = CtcaeTerm.objects.get(term="Bruising")
    assert (bruising.grade1, bruising.definition, bruising.version) == (
        "Localized", "Changed definition", 2
    )  # fmt: skip
    assert bruising.history.count() == 2


@pytest.mark.parametrize(
    "content,error",
    [
        (b"not a workbook", "path: cannot read"),
        (None, "header.meddra_code: row 1: required column 'MedDRA Code' is missing"),
    ],
)
def test_unreadable_or_malformed_workbook_fails_and_stores_nothing(tmp_path, content, error):
    path = tmp_path / "bad.xlsx"
    if content is None:
        workbook = Workbook()
        workbook.active.append(["Term", "Grade 1"])
        workbook.save(path)
    else:
        path.write_bytes(content)
    with pytest.raises(CommandError) as failure:
        run_import(path)
    assert str(failure.value).startswith(error)
    assert CtcaeTerm.objects.count() == 88


# --- Grading -----------------------------------------------------------------------------------

GRADINGS = [
    # request → term, grade, basis
    ({"test_code": "PLAT", "value": "60", "unit": "10^9/L", "lln": "150", "uln": "400"},
     "Platelet count decreased", 2, "<75-50 ×10⁹/L"),
    ({"test_code": "PLAT", "value": "60000", "unit": "/µL", "lln": "150000", "uln": "400000"},
     "Platelet count decreased", 2, "<75-50 ×10⁹/L"),
    ({"test_code": "NEUT", "value": "0.4", "unit": "10^9/L", "lln": "1.8", "uln": "7.5"},
     "Neutrophil count decreased", 4, "<0.5 ×10⁹/L"),
    ({"test_code": "ALT", "value": "130", "unit": "U/L", "uln": "40"},
     "Alanine aminotransferase increased", 2, ">3-5×ULN"),
    # Abnormal baseline (80 > ULN 40): the multiples apply to the baseline.
    ({"test_code": "ALT", "value": "130", "unit": "U/L", "uln": "40", "baseline_value": "80"},
     "Alanine aminotransferase increased", 1, "1.5-3×baseline"),
    ({"test_code": "ALT", "value": "130", "unit": "U/L", "uln": "40", "baseline_value": "80",
      "baseline_abnormal": False},
     "Alanine aminotransferase increased", 2, ">3-5×ULN"),
    ({"test_code": "BILI", "value": "2", "unit": "mg/dL", "uln": "1.2"},
     "Blood bilirubin increased", 2, ">1.5-3×ULN"),
    ({"test_code": "CREAT", "value": "2", "unit": "mg/dL", "uln": "1.1", "baseline_value": "0.5"},
     "Creatinine increased", 3, ">3×baseline"),
    ({"test_code": "TRIG", "value": "300", "unit": "mg/dL"},
     "Hypertriglyceridemia", 1, "1.71-3.42 mmol/L"),
    ({"test_code": "HGB", "value": "13", "unit": "g/dL", "lln": "12", "uln": "16"},
     "Anemia", 0, "normal"),
    ({"test_code": "K", "value": "5.0", "unit": "mmol/L", "lln": "3.5", "uln": "5.1"},
     "Hyperkalemia", 0, "normal"),
    ({"test_code": "GLUC", "value": "15", "unit": "mmol/L", "lln": "3.9", "uln": "5.6"},
     "Hyperglycemia", None, ">ULN (graded by intervention, no glucose cut-offs)"),
    ({"test_code": "TACRO", "value": "5", "unit": "ng/mL"},
     None, None, "no CTCAE v5.0 lab criterion"),
]  # fmt: skip


@pytest.mark.parametrize("request_body,term,grade,basis", GRADINGS)
def test_grade_endpoint(client, request_body, term, grade, basis):
    response = client.post("/api/ctcae/grade/", request_body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["term"], data["grade"], data["basis"]) == (term, grade, basis)


def test_grade_endpoint_reports_the_standard_values(client):
    data = client.post(
        "/api/ctcae/grade/",
        {
            "test_code": "creat",
            "value": "2",
            "unit": "mg/dl",
            "uln": "1.1",
            "baseline_value": "0.5",
        },
        format="json",
    ).json()
    assert (data["test_code"], data["value_std"], data["unit_std"]) == ("CREAT", "176.84", "umol/L")
    assert (data["lln_std"], data["uln_std"], data["baseline_value_std"]) == (
        None, "97.262", "44.21"
    )  # fmt: skip


BAD_GRADINGS = [
    ({"test_code": "XYZ"}, "test_code"),
    ({"unit": "mg/furlong"}, "unit"),
    ({"value": "-1"}, "value"),
    ({"value": "6000"}, "value"),
    ({"lln": "400", "uln": "150"}, "lln"),
    ({"lln": None}, "lln"),  # 120 is above 75: grade 1 or 0 needs the LLN
    ({"value": "abc"}, "value"),
    ({"test_code": "ALT", "unit": "U/L", "value": "90", "uln": "40", "lln": None,
      "baseline_value": "0"}, "baseline_value"),
]  # fmt: skip


@pytest.mark.parametrize("overrides,field", BAD_GRADINGS)
def test_grade_endpoint_refuses_bad_input_naming_the_field(client, overrides, field):
    request_body = {"test_code": "PLAT", "value": "120", "unit": "10^9/L", "lln": "150",
                    "uln": "400"}  # fmt: skip
    request_body.update(overrides)
    request_body = {k: v for k, v in request_body.items() if v is not None}
    response = client.post("/api/ctcae/grade/", request_body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
