"""API conventions: the studies listing, pagination, filtering, errors, schema and docs."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from ecrf.models import StudyRole

pytestmark = pytest.mark.django_db

ALL_STUDIES = ["NCT03304288", "NCT03918265", "NCT05471050", "NCT05694130"]


@pytest.fixture
def statistician(make_user):
    for registry_id in ALL_STUDIES:
        user = make_user("stat", "statistician", registry_id)
    return user


def test_studies_list_the_design_of_every_study(client_for, statistician):
    body = client_for(statistician).get("/api/studies/").json()
    assert body["count"] == 4
    studies = {s["registry_id"]: s for s in body["results"]}
    assert sorted(studies) == ALL_STUDIES

    itp = studies["NCT05471050"]
    assert [a["code"] for a in itp["arms"]] == ["DAN", "TAC_DAN"]
    assert [s["code"] for s in itp["sites"]] == ["PKUPH"]
    assert [v["number"] for v in itp["protocol_versions"]] == [1, 2]
    current = itp["current_protocol_version"]
    assert current["number"] == 2
    assert [v["code"] for v in current["visit_definitions"]][:3] == ["D1", "W1", "W2"]
    assert [e["code"] for e in current["endpoint_definitions"]] == [
        "sustained_response_6m",
        "complete_response",
        "response",
        "time_to_response",
        "duration_of_response",
        "peak_platelet_count",
    ]
    tacrolimus = next(r for r in current["regimens"] if r["code"] == "TAC_DAN_tacrolimus")
    assert (tacrolimus["dose_basis"], tacrolimus["dose_amount"]) == ("mg_per_kg", "0.0300")
    assert (tacrolimus["target_trough_low"], tacrolimus["target_trough_high"]) == ("3.00", "5.00")
    single = studies["NCT03918265"]
    assert (single["design"], single["randomization_scheme"]) == ("single_arm", None)
    assert studies["NCT03304288"]["randomization_scheme"]["block_sizes"] == [2, 4, 6]


def test_studies_list_costs_the_same_queries_for_one_study_or_four(
    client_for, make_user, statistician, django_assert_num_queries
):
    one = make_user("solo", "monitor", "NCT05471050")
    client_one, client_all = client_for(one), client_for(statistician)
    client_one.get("/api/studies/")  # warm caches (content types etc.)
    with django_assert_num_queries(12) as one_study:
        assert client_one.get("/api/studies/").json()["count"] == 1
    with django_assert_num_queries(len(one_study.captured_queries)):
        assert client_all.get("/api/studies/").json()["count"] == 4


def test_lists_are_paginated(client_for, statistician):
    client = client_for(statistician)
    page = client.get("/api/studies/?page_size=3").json()
    assert (page["count"], len(page["results"])) == (4, 3)
    assert page["next"].endswith("page=2&page_size=3")
    last = client.get(page["next"]).json()
    assert (len(last["results"]), last["next"]) == (1, None)


def test_lists_filter_with_query_parameters(client_for, statistician):
    body = client_for(statistician).get("/api/studies/?design=single_arm").json()
    assert [s["registry_id"] for s in body["results"]] == ["NCT03918265"]


def test_errors_share_one_format(client_for, statistician):
    client = client_for(statistician)
    missing = client.get("/api/studies/999999/")
    assert missing.status_code == 404
    assert missing.json() == {
        "status": 404,
        "code": "not_found",
        "detail": "Not found.",
        "errors": [{"field": None, "message": "Not found.", "code": "not_found"}],
    }
    not_allowed = client.post("/api/studies/", {}, format="json")
    assert not_allowed.status_code == 405
    assert not_allowed.json()["code"] == "method_not_allowed"
    invalid = client.post("/api/patients/", {"sex": "X"}, format="json")
    assert invalid.status_code == 400
    fields = {e["field"] for e in invalid.json()["errors"]}
    assert fields == {"study", "site", "sex", "birth_date", "height_cm", "weight_kg"}


def test_study_design_has_an_audit_history(client_for, statistician, study):
    history = client_for(statistician).get(f"/api/studies/{study.pk}/history/").json()["results"]
    assert history[0]["type"] == "created"
    assert history[0]["reason"] == "Protocol file NCT05471050.yaml loaded"


def test_schema_and_interactive_docs_are_served(client, statistician):
    client.force_login(statistician)  # signed-in users only (issue 13)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/studies/", "/api/patients/{id}/history/", "/api/auth/token/"):
        assert path in text
    assert client.get("/api/docs/").status_code == 200


def test_quickstart_creates_documented_demo_users(capsys):
    call_command("quickstart", "--no-serve")
    out = capsys.readouterr().out
    assert "coordinator / coordinator-demo-2026" in out
    users = get_user_model().objects
    assert users.get(username="admin").check_password("admin-demo-2026")
    assert users.get(username="admin").is_superuser
    coordinator = users.get(username="coordinator")
    assert coordinator.check_password("coordinator-demo-2026")
    grant = StudyRole.objects.get(user=coordinator, study__registry_id="NCT03304288")
    assert (grant.role, grant.scope_summary) == ("coordinator", "BJH")
    assert StudyRole.objects.filter(user__username="datamanager", all_sites=True).count() == 4
    call_command("quickstart", "--no-serve")  # idempotent
    assert StudyRole.objects.filter(user=coordinator).count() == 4
