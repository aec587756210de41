"""Site scoping, role permissions and token authentication."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from ecrf.access import ROLE_ACTIONS, Action, Grant, can, grants_for
from ecrf.models import StudyRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_site_patients(multisite_study, make_patient):
    return make_patient(multisite_study, "PKUPH"), make_patient(multisite_study, "NAVY")


def test_coordinator_sees_only_patients_of_their_site(make_user, client_for, two_site_patients):
    own, foreign = two_site_patients
    client = client_for(make_user("cora", "coordinator", "NCT03304288", ["PKUPH"]))

    listing = client.get("/api/patients/").json()
    assert [p["subject_id"] for p in listing["results"]] == [own.subject_id]
    assert client.get(f"/api/patients/{own.pk}/").status_code == 200
    # Outside the user's scope a record does not exist: 404, never 403.
    assert client.get(f"/api/patients/{foreign.pk}/").status_code == 404
    assert client.get(f"/api/patients/{foreign.pk}/history/").status_code == 404
    patch = client.patch(
        f"/api/patients/{foreign.pk}/",
        {"weight_kg": "70", "reason": "x", "version": 1},
        format="json",
    )
    assert patch.status_code == 404
    assert (
        client.delete(
            f"/api/patients/{foreign.pk}/", {"reason": "x", "version": 1}, format="json"
        ).status_code
        == 404
    )
    foreign.refresh_from_db()
    assert (foreign.weight_kg, foreign.is_voided) == (60, False)


def test_coordinator_cannot_screen_at_a_foreign_site(make_user, client_for, multisite_study):
    client = client_for(make_user("cora", "coordinator", "NCT03304288", ["PKUPH"]))
    navy = multisite_study.sites.get(code="NAVY")
    body = {
        "study": multisite_study.pk,
        "site": navy.pk,
        "sex": "M",
        "birth_date": "1970-01-01",
        "height_cm": "170",
        "weight_kg": "70",
    }
    response = client.post("/api/patients/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "site",
        "message": "Unknown site for this study.",
        "code": "invalid",
    }
    assert not navy.patients.exists()


def test_study_wide_grant_covers_every_site(make_user, client_for, two_site_patients):
    client = client_for(make_user("ivy", "investigator", "NCT03304288"))
    listing = client.get("/api/patients/").json()
    assert sorted(p["site_code"] for p in listing["results"]) == ["NAVY", "PKUPH"]


def test_a_grant_in_one_study_shows_nothing_of_another(make_user, client_for, study, make_patient):
    other = make_patient(study, "PKUPH")
    client = client_for(make_user("cora", "coordinator", "NCT03304288"))
    assert client.get(f"/api/patients/{other.pk}/").status_code == 404
    assert [s["registry_id"] for s in client.get("/api/studies/").json()["results"]] == [
        "NCT03304288"
    ]


def test_monitor_reads_but_cannot_change(make_user, client_for, two_site_patients):
    own, _ = two_site_patients
    client = client_for(make_user("mo", "monitor", "NCT03304288", ["PKUPH"]))
    assert client.get(f"/api/patients/{own.pk}/").status_code == 200
    assert client.get(f"/api/patients/{own.pk}/history/").status_code == 200
    response = client.patch(
        f"/api/patients/{own.pk}/", {"weight_kg": "70", "reason": "x", "version": 1}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    own.refresh_from_db()
    assert own.version == 1


def test_user_without_any_role_sees_nothing(client_for, two_site_patients):
    user = get_user_model().objects.create_user("nobody", password="x-long-password-1")
    client = client_for(user)
    assert client.get("/api/patients/").json()["count"] == 0
    assert client.get("/api/studies/").json()["count"] == 0


# The documented permission matrix (README "Roles"): a change here must be deliberate.
MATRIX = {
    "coordinator": {"view", "enter_data", "randomize", "void", "view_audit", "answer_queries"},
    "investigator": {
        "view", "enter_data", "confirm_eligibility", "randomize", "void", "view_audit",
        "view_reports", "decide_dose", "answer_queries",
    },
    "monitor": {"view", "view_audit", "view_reports", "manage_queries", "verify_source"},
    "data_manager": {
        "view", "enter_data", "confirm_eligibility", "randomize", "back_enter", "void",
        "view_audit", "view_reports", "view_allocation_list", "manage_randomization",
        "decide_dose", "manage_queries", "freeze_lock", "verify_source", "recompute_assessments",
    },
    "statistician": {"view", "view_audit", "view_reports", "manage_randomization"},
}  # fmt: skip


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_role_matrix(role):
    assert {a.value for a in ROLE_ACTIONS[role]} == MATRIX[role]


@pytest.mark.parametrize("action", list(Action))
def test_can_respects_site_scope_for_every_action(make_user, multisite_study, action):
    # A data manager holds every action but answering queries (the site's side of a query).
    role = "coordinator" if action == Action.ANSWER_QUERIES else "data_manager"
    user = make_user("dm", role, "NCT03304288", ["NAVY"])
    navy = multisite_study.sites.get(code="NAVY").pk
    pkuph = multisite_study.sites.get(code="PKUPH").pk
    assert can(user, action, study_id=multisite_study.pk, site_id=navy) is True
    assert can(user, action, study_id=multisite_study.pk, site_id=pkuph) is False


def test_token_is_issued_for_valid_credentials_only(api_client_plain):
    get_user_model().objects.create_user("tok", password="correct-horse-2026")
    ok = api_client_plain.post(
        "/api/auth/token/", {"username": "tok", "password": "correct-horse-2026"}, format="json"
    )
    assert ok.status_code == 200
    assert set(ok.json()) == {"token", "expires_at"}
    bad = api_client_plain.post(
        "/api/auth/token/", {"username": "tok", "password": "wrong"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "password"
    missing = api_client_plain.post("/api/auth/token/", {"username": "tok"}, format="json")
    assert missing.json()["errors"][0]["field"] == "password"

    token = ok.json()["token"]
    api_client_plain.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client_plain.get("/api/studies/").status_code == 200


def test_requests_without_credentials_get_401_in_the_common_error_format(api_client_plain):
    response = api_client_plain.get("/api/patients/")
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401
    assert body["errors"][0]["field"] is None
    api_client_plain.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api_client_plain.get("/api/patients/").status_code == 401


def test_grant_access_command_creates_user_and_scoped_grant(multisite_study):
    call_command("grant_access", "newcoord", "--role", "coordinator", "--study", "NCT03304288",
                 "--site", "NAVY", "--site", "BJH", "--password", "s3cret-pass-2026")  # fmt: skip
    user = get_user_model().objects.get(username="newcoord")
    grant = StudyRole.objects.get(user=user)
    assert user.check_password("s3cret-pass-2026") and user.is_staff
    assert (grant.role, grant.all_sites, grant.scope_summary) == ("coordinator", False, "BJH, NAVY")
    assert sorted(grant.sites.values_list("code", flat=True)) == ["BJH", "NAVY"]
    assert grant.history.get().history_change_reason == "Access granted: coordinator in NCT03304288"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--role", "coordinator", "--study", "NCT00000000"],
            "study: No study NCT00000000 is loaded.",
        ),
        (
            ["--role", "coordinator", "--study", "NCT03304288", "--site", "MARS"],
            "site: Study NCT03304288 has no site MARS.",
        ),
    ],
)
def test_grant_access_command_rejects_unknown_study_or_site(args, message):
    with pytest.raises(CommandError) as caught:
        call_command("grant_access", "someone", *args)
    assert str(caught.value) == message
    assert not get_user_model().objects.filter(username="someone").exists()


def test_grants_are_read_in_one_statement_with_every_site(
    multisite_study, study, django_assert_num_queries
):
    """A role naming two sites, one naming none and one over all sites: each is one grant with
    exactly its sites, read together in one statement (every API request pays it)."""
    user = get_user_model().objects.create_user("mona", is_staff=True)
    pkuph, navy = (multisite_study.sites.get(code=code) for code in ("PKUPH", "NAVY"))
    monitor = StudyRole.objects.create(
        user=user, study=multisite_study, role="monitor", all_sites=False
    )
    monitor.sites.set([pkuph, navy])
    StudyRole.objects.create(user=user, study=multisite_study, role="coordinator", all_sites=False)
    StudyRole.objects.create(user=user, study=study, role="statistician", all_sites=True)
    StudyRole.objects.create(user=user, study=study, role="monitor", is_active=False)

    with django_assert_num_queries(1):
        grants = grants_for(user)
    assert len(grants) == 3
    assert set(grants) == {
        Grant(study.pk, "statistician", True, frozenset()),
        Grant(multisite_study.pk, "coordinator", False, frozenset()),
        Grant(multisite_study.pk, "monitor", False, frozenset({pkuph.pk, navy.pk})),
    }
    with django_assert_num_queries(0):
        assert grants_for(user) is grants
