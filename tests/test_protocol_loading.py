"""Loading the shipped protocol files, amendments, edits, and malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trials.models import (
    EligibilityCriterion,
    EndpointDefinition,
    ProtocolVersion,
    Study,
    VisitDefinition,
)
from trials.services import ProtocolFileError, load_protocol, shipped_protocol_paths

PROTOCOL_DIR = Path(__file__).resolve().parents[1] / "trials" / "protocols"

# registry id: (design, arms, sites, protocol versions, visits, criteria, endpoints of current)
EXPECTED = {
    "NCT05471050": ("randomized", ["DAN", "TAC_DAN"], ["PKUPH"], 2, 12, 13, 6),
    "NCT03304288": (
        "randomized",
        ["RTX", "RTX_ATRA"],
        ["BJH", "NAVY", "PKUPH", "TONGREN"],
        1,
        22,
        14,
        6,
    ),
    "NCT03918265": ("single_arm", ["TAC"], ["PUMCH"], 1, 9, 9, 10),
    "NCT05694130": ("randomized", ["PRED", "PRED_TAC"], ["PUMCH"], 1, 7, 12, 8),
}


def test_every_shipped_protocol_is_a_file_per_trial():
    assert sorted(p.stem for p in shipped_protocol_paths()) == sorted(EXPECTED)


@pytest.mark.django_db
@pytest.mark.parametrize("registry_id", sorted(EXPECTED))
def test_shipped_protocol_is_loaded_completely(registry_id):
    design, arms, sites, n_versions, n_visits, n_criteria, n_endpoints = EXPECTED[registry_id]
    study = Study.objects.get(registry_id=registry_id)
    current = study.current_protocol()
    assert study.design == design
    assert sorted(study.arms.values_list("code", flat=True)) == arms
    assert sorted(study.sites.values_list("code", flat=True)) == sites
    assert study.protocol_versions.count() == n_versions
    assert current.number == n_versions
    assert current.visit_definitions.count() == n_visits
    assert current.eligibility_criteria.count() == n_criteria
    assert current.endpoint_definitions.count() == n_endpoints
    assert study.ctcae_version == "5.0"
    # every arm has a regimen in the current protocol version
    assert {r.arm.code for r in current.regimens.all()} == set(arms)


@pytest.mark.django_db
def test_rituximab_atra_schedule_follows_the_registry_text():
    """Weekly for 4 weeks, every 2 weeks for the following 5 months, monthly to 1 year."""
    study = Study.objects.get(registry_id="NCT03304288")
    visits = list(study.current_protocol().visit_definitions.values_list("code", "day_offset"))
    assert visits == [
        ("D1", 0),
        ("W1", 7), ("W2", 14), ("W3", 21), ("W4", 28),
        ("W6", 42), ("W8", 56), ("W10", 70), ("W12", 84), ("W14", 98), ("W16", 112),
        ("W18", 126), ("W20", 140), ("W22", 154), ("W24", 168), ("W26", 182),
        ("M7", 210), ("M8", 240), ("M9", 270), ("M10", 300), ("M11", 330), ("M12", 360),
    ]  # fmt: skip


@pytest.mark.django_db
def test_tacrolimus_danazol_amendment_redefines_the_primary_endpoint():
    study = Study.objects.get(registry_id="NCT05471050")
    v1, v2 = study.protocol_versions.order_by("number")
    old = v1.endpoint_definitions.get(code="sustained_response_6m")
    new = v2.endpoint_definitions.get(code="sustained_response_6m")
    assert old.is_primary and new.is_primary
    assert "criteria" not in old.parameters  # protocol-level criteria: >= 30 and 2x baseline
    assert v1.response_criteria["levels"]["R"] == {
        "rank": 2,
        "platelets": {"op": ">=", "value": 30},
        "fold_of_baseline": 2,
    }
    assert new.parameters["criteria"]["levels"]["R"] == {
        "platelets": {"op": ">", "value": 50},
        "fold_of_baseline": None,
    }
    assert new.parameters["criteria"]["bleeding"] is None
    assert new.parameters["criteria"]["rescue"]["since_start"] is True
    assert "ASH 2023" in v2.summary_of_changes
    # the other endpoints are carried over unchanged
    assert sorted(v2.endpoint_definitions.values_list("code", flat=True)) == sorted(
        v1.endpoint_definitions.values_list("code", flat=True)
    )


@pytest.mark.django_db
def test_reloading_an_unchanged_file_changes_nothing():
    history_before = Study.history.count() + ProtocolVersion.history.count()
    reports = [load_protocol(str(p)) for p in shipped_protocol_paths()]
    assert all(r.unchanged for r in reports)
    assert Study.history.count() + ProtocolVersion.history.count() == history_before


def _write(tmp_path: Path, document: dict, name: str = "protocol.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _shipped(registry_id: str) -> dict:
    return yaml.safe_load((PROTOCOL_DIR / f"{registry_id}.yaml").read_text(encoding="utf-8"))


@pytest.mark.django_db
def test_an_edited_file_becomes_a_new_version_and_the_old_one_is_kept(tmp_path):
    document = _shipped("NCT05694130")
    document["versions"][0]["visits"][-1]["window"] = 5  # W12 window widened in the file
    path = _write(tmp_path, document)

    report = load_protocol(str(path))

    study = Study.objects.get(registry_id="NCT05694130")
    assert report.versions_created == [2]
    v1, v2 = study.protocol_versions.order_by("number")
    assert (
        v1.visit_definitions.get(code="W12").window_after,
        v2.visit_definitions.get(code="W12").window_after,
    ) == (3, 5)
    assert "changed after version(s) 1" in v2.summary_of_changes
    assert v1.history.count() == 1  # never rewritten
    assert load_protocol(str(path)).unchanged  # and loading it again is a no-op


@pytest.mark.django_db
def test_an_appended_amendment_adds_exactly_its_version(tmp_path):
    document = _shipped("NCT03918265")
    document["versions"].append(
        {
            "number": 2,
            "effective_date": "2020-01-15",
            "summary": "Trough target lowered to 4-8 ng/mL.",
            "changes": {
                "regimens": {
                    "upsert": [
                        {
                            **document["versions"][0]["regimens"][0],
                            "trough_target": {"low": 4, "high": 8, "unit": "ng/mL"},
                        }
                    ]
                }
            },
        }
    )
    report = load_protocol(str(_write(tmp_path, document)))
    study = Study.objects.get(registry_id="NCT03918265")
    current = study.current_protocol()
    assert report.versions_created == [2]
    assert current.summary_of_changes == "Trough target lowered to 4-8 ng/mL."
    regimen = current.regimens.get()
    assert (regimen.target_trough_low, regimen.target_trough_high) == (4, 8)
    assert study.protocol_versions.get(number=1).regimens.get().target_trough_low == 5


def _broken(mutate) -> dict:
    document = _shipped("NCT05471050")
    mutate(document)
    return document


def _drop(key):
    return lambda d: d.pop(key)


MALFORMED = [
    ("missing title", _drop("title"), "title", "is required"),
    ("unknown top-level key", lambda d: d.update(sponsr="x"), "sponsr", "unknown key"),
    (
        "bad registry id",
        lambda d: d.update(registry_id="NCT123"),
        "registry_id",
        "ClinicalTrials.gov id",
    ),
    ("bad design", lambda d: d.update(design="crossover"), "design", "must be one of"),
    (
        "regimen for an unknown arm",
        lambda d: d["versions"][0]["regimens"][0].update(arm="PLACEBO"),
        "versions.0.regimens.0.arm",
        "unknown arm 'PLACEBO'",
    ),
    (
        "duplicate visit code",
        lambda d: d["versions"][0]["visits"].append(
            {"code": "W1", "name": "again", "day_offset": 9}
        ),
        "versions.0.visits.12.code",
        "duplicate code 'W1'",
    ),
    (
        "block size not a multiple of the ratio",
        lambda d: d["randomization"].update(block_sizes=[2, 3]),
        "randomization.block_sizes.1",
        "multiple of the allocation ratio",
    ),
    (
        "amendment removes an unknown endpoint",
        lambda d: d["versions"][1]["changes"].update(endpoints={"remove": ["nope"]}),
        "versions.1.changes.endpoints.remove",
        "no endpoints item with code 'nope'",
    ),
    (
        "version numbers out of order",
        lambda d: d["versions"][1].update(number=3),
        "versions.1.number",
        "numbered 1, 2",
    ),
    (
        "eligibility rule with an unknown unit",
        lambda d: d["versions"][0]["eligibility"][2]["rule"].update(unit="furlongs"),
        "versions.0.eligibility.2.rule.unit",
        "",
    ),
    (
        "endpoint with a negative time point",
        lambda d: d["versions"][0]["endpoints"][0]["time_point"].update(day=-5),
        "versions.0.endpoints.0.time_point.day",
        "",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "key", "problem"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_file_is_rejected_naming_file_key_and_problem(tmp_path, mutate, key, problem):
    path = _write(tmp_path, _broken(mutate), name="broken.yaml")
    studies_before = Study.history.count()
    with pytest.raises(ProtocolFileError) as caught:
        load_protocol(str(path))
    assert caught.value.file == str(path)
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}: {key}: ")
    assert Study.history.count() == studies_before  # nothing stored


@pytest.mark.django_db
def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("registry_id: NCT05471050\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProtocolFileError) as caught:
        load_protocol(str(path))
    assert caught.value.key.startswith("line ")
    assert "not valid YAML" in caught.value.problem


@pytest.mark.django_db
def test_unknown_registry_id_is_an_error():
    with pytest.raises(ProtocolFileError) as caught:
        load_protocol("NCT99999999")
    assert "no shipped protocol" in caught.value.problem


@pytest.mark.django_db
def test_protocol_parts_have_audit_history_with_the_load_reason():
    criterion = EligibilityCriterion.objects.filter(
        protocol_version__study__registry_id="NCT05471050", code="alt_ast_3uln"
    ).first()
    record = criterion.history.get()
    assert record.history_type == "+"
    assert record.history_change_reason == "Protocol file NCT05471050.yaml loaded"
    assert EndpointDefinition.history.count() >= EndpointDefinition.objects.count()
    assert VisitDefinition.history.count() >= VisitDefinition.objects.count()


def test_migration_ranks_the_levels_of_versions_stored_without_rank():
    """Versions stored before levels had a rank come back from jsonb as {"R": …, "CR": …}."""
    import importlib

    migration = importlib.import_module("trials.migrations.0003_rank_response_levels")
    criteria = {
        "levels": {
            "R": {"platelets": {"op": ">=", "value": 30}, "fold_of_baseline": 2},
            "CR": {"platelets": {"op": ">=", "value": 100}, "fold_of_baseline": None},
        }
    }
    assert migration._rank_protocol_levels(criteria) is True
    assert {code: level["rank"] for code, level in criteria["levels"].items()} == {
        "CR": 1,
        "R": 2,
    }
    assert migration._rank_protocol_levels(criteria) is False  # already ranked
    haemoglobin = {
        "criteria": {
            "levels": {
                "R": None,
                "PR": {"hb": {"op": ">=", "value": 100}, "rise_from_baseline": {"value": 20}},
                "CR": {"hb": {"op": ">=", "value": 120}, "platelets": None},
            }
        }
    }
    assert migration._rank_override_levels(criteria["levels"], haemoglobin) is True
    levels = haemoglobin["criteria"]["levels"]
    assert (levels["PR"]["rank"], levels["R"]) == (2, None)
    assert "rank" not in levels["CR"]  # inherits rank 1 from the protocol's CR
    inherits = {"criteria": {"levels": {"CR": None, "R": {"platelets": {"value": 30}}}}}
    assert migration._rank_override_levels(criteria["levels"], inherits) is False
