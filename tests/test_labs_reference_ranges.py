"""Site laboratories' reference ranges, and results that take their range from the table."""

from __future__ import annotations

import datetime as dt

import pytest

from visits.labs.models import ReferenceRange

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def client(client_for, coordinator):
    return client_for(coordinator)


@pytest.fixture
def pkuph(multisite_study):
    return multisite_study.sites.get(code="PKUPH")


def range_body(site, **overrides):
    values = {
        "site": site.pk,
        "test_code": "HGB",
        "sex": "F",
        "unit": "g/dL",
        "lln": "11.5",
        "uln": "15.5",
        "effective_from": "2024-01-01",
    }
    values.update(overrides)
    return values


def add_range(client, site, **overrides):
    return client.post("/api/reference-ranges/", range_body(site, **overrides), format="json")


def add_result(client, patient, **overrides):
    values = {
        "patient": patient.pk,
        "collected_at": "2025-03-04T08:30:00Z",
        "test_code": "HGB",
        "value": "105",
        "unit": "g/L",
    }
    values.update(overrides)
    return client.post("/api/lab-results/", values, format="json")


def test_range_is_created_audited_with_an_etag(client, pkuph):
    response = add_range(client, pkuph)
    assert response.status_code == 201, response.json()
    assert response["ETag"] == '"1"'
    data = response.json()
    assert (data["site_code"], data["lln"], data["uln"], data["unit"]) == (
        "PKUPH", "11.5", "15.5", "g/dL"
    )  # fmt: skip
    stored = ReferenceRange.objects.get()
    assert stored.history.get().history_change_reason == "Reference range entered"


def test_result_without_limits_takes_the_table_range_converted_to_its_unit(
    client, pkuph, multisite_study, make_patient, coordinator
):
    female_range = add_range(client, pkuph).json()
    add_range(client, pkuph, sex="M", lln="13.5", uln="17.5")
    patient = make_patient(multisite_study, "PKUPH", actor=coordinator)  # F, born 1980
    data = add_result(client, patient).json()
    assert data["range_source"] == "range_table"
    assert data["reference_range"] == female_range["id"]
    assert (data["lln"], data["uln"], data["unit"]) == ("115", "155", "g/L")
    assert (data["lln_std"], data["uln_std"]) == ("115", "155")
    assert data["indicator"] == "LOW"
    assert data["ctcae"]["term"] == "Anemia" and data["ctcae"]["grade"] == 1


def test_range_for_the_patients_sex_wins_over_one_for_both(
    client, pkuph, multisite_study, make_patient, coordinator
):
    add_range(client, pkuph, sex="", lln="12", uln="16")
    male = add_range(client, pkuph, sex="M", lln="13.5", uln="17.5").json()
    patient = make_patient(multisite_study, "PKUPH", actor=coordinator, sex="M")
    assert add_result(client, patient).json()["reference_range"] == male["id"]


@pytest.mark.parametrize(
    "collected_at,birth_date,expected",
    [
        ("2025-03-04T08:30:00Z", dt.date(1980, 5, 17), "adult-new"),  # age 44
        ("2023-06-01T08:30:00Z", dt.date(1980, 5, 17), "adult-old"),  # before the change
        ("2025-03-04T08:30:00Z", dt.date(1955, 3, 5), "elderly"),  # 69, the day before 70
        ("2025-03-05T08:30:00Z", dt.date(1955, 3, 5), None),  # 70th birthday: no band covers
    ],
)
def test_range_is_chosen_by_age_band_and_effective_dates(
    client, pkuph, multisite_study, make_patient, coordinator, collected_at, birth_date, expected
):
    ids = {
        "adult-old": add_range(client, pkuph, age_min_years=18, age_max_years=64,
                               effective_from="2020-01-01", effective_to="2024-12-31"),
        "adult-new": add_range(client, pkuph, age_min_years=18, age_max_years=64,
                               lln="12", effective_from="2025-01-01"),
        "elderly": add_range(client, pkuph, age_min_years=65, age_max_years=69,
                             lln="11", effective_from="2020-01-01"),
    }  # fmt: skip
    ids = {name: response.json()["id"] for name, response in ids.items()}
    patient = make_patient(
        multisite_study, "PKUPH", actor=coordinator, birth_date=birth_date,
        screened_on=dt.date(2023, 1, 2),
    )  # fmt: skip
    data = add_result(client, patient, collected_at=collected_at).json()
    assert data["reference_range"] == (ids[expected] if expected else None)
    assert data["range_source"] == ("range_table" if expected else "")


def test_limits_sent_with_the_result_win_over_the_table(
    client, pkuph, multisite_study, make_patient, coordinator
):
    add_range(client, pkuph)
    patient = make_patient(multisite_study, "PKUPH", actor=coordinator)
    data = add_result(client, patient, lln="100", uln="140").json()
    assert (data["range_source"], data["reference_range"], data["lln"]) == ("result", None, "100")


def test_results_keep_their_limits_when_the_range_is_ended(
    client, pkuph, multisite_study, make_patient, coordinator
):
    created = add_range(client, pkuph).json()
    patient = make_patient(multisite_study, "PKUPH", actor=coordinator)
    result = add_result(client, patient).json()
    ended = client.patch(
        f"/api/reference-ranges/{created['id']}/",
        {"effective_to": "2025-03-31", "reason": "New analyser from April"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert ended.status_code == 200, ended.json()
    assert (ended.json()["effective_to"], ended.json()["version"]) == ("2025-03-31", 2)
    assert client.get(f"/api/lab-results/{result['id']}/").json()["lln"] == "115"


BAD_RANGES = [
    ({"lln": "16", "uln": "12"}, "lln"),
    ({"unit": "furlongs"}, "unit"),
    ({"test_code": "XYZ"}, "test_code"),
    ({"lln": None, "uln": None}, "lln"),
    ({"uln": "-2", "lln": None}, "uln"),
    ({"age_min_years": 70, "age_max_years": 18}, "age_min_years"),
    ({"effective_to": "2023-01-01"}, "effective_to"),
    ({"sex": "X"}, "sex"),
]


@pytest.mark.parametrize("overrides,field", BAD_RANGES)
def test_bad_range_is_a_400_naming_the_field(client, pkuph, overrides, field):
    response = add_range(client, pkuph, **overrides)
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not ReferenceRange.objects.exists()


def test_overlapping_range_is_a_conflict(client, pkuph):
    assert add_range(client, pkuph, effective_to="2024-12-31").status_code == 201
    overlapping = add_range(client, pkuph, effective_from="2024-06-01")
    assert overlapping.status_code == 409
    assert overlapping.json()["errors"][0]["field"] == "effective_from"
    assert add_range(client, pkuph, effective_from="2025-01-01").status_code == 201
    assert add_range(client, pkuph, laboratory="emergency").status_code == 201
    assert ReferenceRange.objects.count() == 3


def test_ranges_of_a_site_you_do_not_belong_to_are_unknown(client, multisite_study):
    navy = multisite_study.sites.get(code="NAVY")
    response = add_range(client, navy)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "site"
    assert not ReferenceRange.objects.exists()


def test_monitor_cannot_change_ranges(client_for, make_user, pkuph):
    monitor = make_user("mo", "monitor", "NCT03304288", ["PKUPH"])
    assert add_range(client_for(monitor), pkuph).status_code == 403
    assert not ReferenceRange.objects.exists()
