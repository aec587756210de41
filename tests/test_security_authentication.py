"""Issue 13, findings 2-5: the token throttle counts real clients in a shared cache, logins lock
out after repeated failures, tokens expire, rotate, die with the password and can be revoked,
and every login, failure, lockout and grant is in the security event log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from ecrf.login_security import TokenThrottle
from ecrf.models import ApiToken, SecurityEvent

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def ann(db):
    return get_user_model().objects.create_user("ann", password=PASSWORD, is_staff=True)


@pytest.fixture
def low_rate(monkeypatch):
    monkeypatch.setattr(TokenThrottle, "THROTTLE_RATES", {"token": "3/minute"})


def token_login(client, password, **headers):
    return client.post(
        "/api/auth/token/", {"username": "ann", "password": password}, format="json", **headers
    )


# --- Throttle (finding 2) ---------------------------------------------------------------------


def test_forwarded_for_does_not_escape_the_throttle_without_proxies(ann, low_rate):
    client = APIClient()
    statuses = [
        token_login(client, "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(5)
    ]
    assert statuses == [400, 400, 400, 429, 429]
    body = token_login(client, PASSWORD).json()
    assert body["status"] == 429 and body["code"] == "throttled"


def test_behind_one_proxy_the_client_is_the_last_forwarded_address(ann, low_rate, settings):
    settings.NUM_PROXIES = 1
    client = APIClient()
    # The client writes "6.6.6.6" itself; the proxy appends the address it saw.
    for n in range(3):
        assert token_login(client, "wrong", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.7")
    third = token_login(client, "wrong", HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.7")
    assert third.status_code == 429
    other = token_login(client, "wrong", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 400


def test_throttle_counts_live_in_the_shared_database_cache(ann, low_rate, settings):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    token_login(APIClient(), "wrong")
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM ecrf_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any(key.endswith("throttle_token_127.0.0.1") for key in keys), keys


# --- Lockout (finding 3) ----------------------------------------------------------------------


def test_admin_login_locks_out_after_five_failures_even_with_the_right_password(ann, client):
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "ann", "password": "wrong"})
        assert response.status_code in (200, 429)
    locked = client.post("/admin/login/", {"username": "ann", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    kinds = list(SecurityEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds.count("login_failed") >= 4
    assert "lockout" in kinds
    assert "login" not in kinds
    assert set(SecurityEvent.objects.values_list("channel", flat=True)) == {"admin"}


def test_api_session_login_locks_out_too(ann, client):
    for _ in range(5):
        client.post("/api-auth/login/", {"username": "ann", "password": "wrong"})
    locked = client.post("/api-auth/login/", {"username": "ann", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_token_login_locks_out_with_the_json_error_format(ann):
    client = APIClient()
    for _ in range(5):
        token_login(client, "wrong")
    locked = token_login(client, PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert "token" not in locked.json()
    assert not ApiToken.objects.filter(user=ann).exists()


def test_successful_and_failed_logins_are_logged(ann):
    client = APIClient()
    assert token_login(client, "wrong").status_code == 400
    assert token_login(client, PASSWORD).status_code == 200
    events = list(
        SecurityEvent.objects.order_by("id").values_list(
            "kind", "username", "client_address", "channel"
        )
    )
    assert events == [
        ("login_failed", "ann", "127.0.0.1", "api"),
        ("login", "ann", "127.0.0.1", "api"),
    ]


# --- Tokens (finding 4) -----------------------------------------------------------------------


def authorized(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/studies/").status_code


def test_token_expires(ann):
    body = token_login(APIClient(), PASSWORD).json()
    stored = ApiToken.objects.get(user=ann)
    assert stored.expires_at - stored.created_at == dt.timedelta(hours=12)
    assert authorized(body["token"]) == 200
    ApiToken.objects.filter(pk=stored.pk).update(expires_at=timezone.now())
    assert authorized(body["token"]) == 401


def test_a_new_login_replaces_the_earlier_token(ann):
    first = token_login(APIClient(), PASSWORD).json()["token"]
    second = token_login(APIClient(), PASSWORD).json()["token"]
    assert first != second
    assert (authorized(first), authorized(second)) == (401, 200)


def test_token_dies_with_a_password_change(ann):
    key = token_login(APIClient(), PASSWORD).json()["token"]
    ann.set_password("Another-Horse-Battery-10")
    ann.save()
    assert authorized(key) == 401


def test_only_a_digest_of_the_key_is_stored(ann):
    key = token_login(APIClient(), PASSWORD).json()["token"]
    stored = ApiToken.objects.get(user=ann)
    assert key not in (stored.digest, stored.prefix) and stored.prefix == key[:8]


def test_administrator_revokes_a_token_in_the_admin(ann, client, superuser):
    key = token_login(APIClient(), PASSWORD).json()["token"]
    client.force_login(superuser)
    response = client.post(
        "/admin/ecrf/apitoken/",
        {"action": "revoke", "_selected_action": [ApiToken.objects.get(user=ann).pk]},
    )
    assert response.status_code == 302
    assert authorized(key) == 401
    event = SecurityEvent.objects.get(kind="token_revoked")
    assert (event.username, event.detail) == ("ann", f"token {key[:8]}… revoked by root")


# --- grant_access (finding 5) and grants in the log -------------------------------------------


@pytest.mark.parametrize("weak", ["1", "password", "12345678901"])
def test_grant_access_refuses_a_weak_password(multisite_study, weak):
    with pytest.raises(CommandError, match="password: This password is too"):
        call_command(
            "grant_access", "weak", "--role", "monitor", "--study", "NCT03304288",
            "--password", weak,
        )  # fmt: skip
    assert not get_user_model().objects.filter(username="weak").exists()


def test_grants_are_logged(multisite_study):
    call_command(
        "grant_access", "mona", "--role", "monitor", "--study", "NCT03304288",
        "--site", "PKUPH", "--password", PASSWORD,
    )  # fmt: skip
    event = SecurityEvent.objects.get(kind="grant")
    assert (event.username, event.channel, event.detail) == (
        "mona",
        "command",
        "monitor in NCT03304288 (PKUPH), active, by manage.py",
    )
