"""Parameters a protocol file sets that the registry text does not state are marked as
assumptions with their source, validated, stored with the version and shown by the API and the
study report."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from tests.test_protocol_loading import _shipped, _write
from tests.test_study_report import Course, TrialBuilder
from trials.models import Study
from trials.services import ProtocolFileError, load_protocol

pytestmark = pytest.mark.django_db

IWG = "IWG 2009 (Rodeghiero et al., Blood 2009;113:2386)"
SPONSOR = "Sponsor assumption (not in the registry text)"

EXPECTED_CODES = {
    "NCT05471050": [
        "iwg_confirmation",
        "iwg_loss",
        "rescue_lookback",
        "baseline_window",
        "window_6m",
        "visit_windows",
        "tacrolimus_rounding",
    ],
    "NCT03304288": [
        "iwg_confirmation",
        "iwg_loss",
        "rescue_lookback",
        "baseline_window",
        "window_1y",
        "window_w4",
        "bsa_mosteller",
        "atra_rounding",
    ],
    "NCT03918265": [
        "iwg_confirmation",
        "iwg_loss",
        "rescue_lookback",
        "baseline_window",
        "window_6m",
        "window_24m",
        "aiha_hb_categories",
        "aiha_hb_categories_24m",
        "hb_categories_by_diagnosis",
        "prca_response",
        "prca_response_24m",
        "evans_platelet_iwg",
        "window_response_6m",
        "window_response_24m",
    ],
    "NCT05694130": [
        "baseline_window",
        "windows_w4_w8_w12",
        "essdai_improvement",
        "esspri_improvement",
        "prednisolone_steps",
    ],
}


def study_detail(client_for, make_user, registry_id: str) -> dict:
    client = client_for(make_user("dana", "data_manager", registry_id))
    study = Study.objects.get(registry_id=registry_id)
    response = client.get(f"/api/studies/{study.pk}/")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("registry_id", sorted(EXPECTED_CODES))
def test_every_shipped_protocol_lists_its_assumptions_through_the_api(
    client_for, make_user, registry_id
):
    body = study_detail(client_for, make_user, registry_id)
    assumptions = body["current_protocol_version"]["assumptions"]
    assert [a["code"] for a in assumptions] == EXPECTED_CODES[registry_id]
    for assumption in assumptions:
        assert sorted(assumption) == ["code", "parameter", "source", "value"]
        assert assumption["source"] and assumption["value"] and assumption["parameter"]


def test_exact_values_read_back_for_the_itp_confirmation_and_bsa(client_for, make_user):
    body = study_detail(client_for, make_user, "NCT03304288")
    by_code = {a["code"]: a for a in body["current_protocol_version"]["assumptions"]}
    assert by_code["iwg_confirmation"] == {
        "code": "iwg_confirmation",
        "parameter": "response_criteria.confirmation",
        "value": "a response counts once a second qualifying count more than 7 days after "
        "the first confirms it",
        "source": IWG,
    }
    assert by_code["bsa_mosteller"] == {
        "code": "bsa_mosteller",
        "parameter": "regimens.RTX_ATRA_atra.bsa_formula",
        "value": "body-surface area by Mosteller: sqrt(height cm x weight kg / 3600)",
        "source": "Mosteller, N Engl J Med 1987;317:1098",
    }
    assert by_code["rescue_lookback"]["source"] == (
        SPONSOR + "; IWG 2009 leaves the look-back to the protocol"
    )


def test_an_amendment_overrides_one_assumption_by_its_code(client_for, make_user):
    study = Study.objects.get(registry_id="NCT05471050")
    v1 = study.protocol_versions.get(number=1)
    original = {a["code"]: a for a in v1.assumptions}["rescue_lookback"]
    assert original["parameter"] == "response_criteria.rescue.lookback_days"
    body = study_detail(client_for, make_user, "NCT05471050")
    current = body["current_protocol_version"]
    assert current["number"] == 2
    by_code = {a["code"]: a for a in current["assumptions"]}
    assert by_code["rescue_lookback"] == {
        "code": "rescue_lookback",
        "parameter": "endpoints.sustained_response_6m.criteria.rescue",
        "value": "additional ITP-modifying therapy at any time since day 1 fails the primary "
        "endpoint",
        "source": "ASH 2023 results abstract (Zhang et al.): "
        "'without additional ITP-modifying therapies'",
    }
    # The other assumptions are carried over unchanged, in the same order.
    assert [a["code"] for a in current["assumptions"]] == [a["code"] for a in v1.assumptions]
    assert by_code["iwg_confirmation"] == {a["code"]: a for a in v1.assumptions}["iwg_confirmation"]


def test_the_study_report_lists_the_assumptions_in_json_csv_and_admin(
    client_for, make_user, study, tmp_path, admin_client
):
    data_manager = make_user("dana", "data_manager", "NCT05471050")
    statistician = make_user("stan", "statistician", "NCT05471050")
    builder = TrialBuilder(client_for(data_manager), study, tmp_path, statistician)
    builder.enter([Course("TAC_DAN", 90, 60)])
    client = client_for(statistician)
    expected = study.current_protocol().assumptions

    report = client.get(f"/api/studies/{study.pk}/report/?format=json").json()
    assert report["assumptions"] == expected

    text = client.get(f"/api/studies/{study.pk}/report/?format=csv").content.decode()
    rows = [r for r in csv.reader(io.StringIO(text)) if r and r[0] == "assumption"]
    assert len(rows) == 3 * len(expected)
    assert ["assumption", "", "iwg_confirmation", "source", IWG] in rows
    assert ["assumption", "", "window_6m", "value", expected[4]["value"]] in rows

    page = admin_client.get(f"/admin/endpoints/patientassessment/report/{study.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Assumptions these results depend on" in html
    assert all(f"<code>{a['code']}</code>" in html for a in expected)


@pytest.mark.parametrize(
    ("assumption", "key", "problem"),
    [
        ({"code": "x", "parameter": "visits.W4.window", "value": "3 days"}, "source",
         "must be a non-empty text"),
        ({"code": "x", "parameter": "visits.W99.window", "value": "3", "source": "s"},
         "parameter", "'visits.W99.window' names nothing in this version's content"),
        ({"code": "x", "parameter": "visits.W4", "value": "3", "source": "s", "why": "?"},
         "why", "unknown key (allowed: code, parameter, value, source)"),
        ({"code": "9x", "parameter": "visits.W4", "value": "3", "source": "s"}, "code",
         "must start with a letter and hold only letters, digits and _"),
    ],
)  # fmt: skip
def test_a_malformed_assumption_is_refused_naming_file_and_key(tmp_path, assumption, key, problem):
    document = _shipped("NCT05694130")
    document["versions"][0]["assumptions"] = [assumption]
    path = _write(tmp_path, document)
    with pytest.raises(ProtocolFileError) as refused:
        load_protocol(str(path))
    assert (refused.value.file, refused.value.key, refused.value.problem) == (
        str(path),
        f"versions.0.assumptions.0.{key}",
        problem,
    )


def test_an_assumption_must_survive_the_parameter_it_explains(tmp_path):
    """Removing the endpoint an assumption explains, without removing the assumption, is refused."""
    document = _shipped("NCT05694130")
    document["versions"].append(
        {
            "number": 2,
            "effective_date": "2024-01-01",
            "summary": "ESSPRI dropped",
            "changes": {"endpoints": {"remove": ["esspri_change_w12"]}},
        }
    )
    path = _write(tmp_path, document)
    with pytest.raises(ProtocolFileError) as refused:
        load_protocol(str(path))
    assert refused.value.key == "versions.1.assumptions.3.parameter"
    assert yaml.safe_load(path.read_text())["versions"][1]["number"] == 2
