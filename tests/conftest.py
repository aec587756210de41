"""Shared fixtures: the shipped protocols are loaded once into the test database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ecrf.services import grant_access
from patients.services import patient_create
from trials.models import Study
from trials.services import load_protocol, shipped_protocol_paths


def load_shipped_protocols() -> None:
    for path in shipped_protocol_paths():
        load_protocol(str(path))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Kept for every non-transactional test (each runs inside a rolled-back transaction).
    with django_db_blocker.unblock():
        load_shipped_protocols()


@pytest.fixture
def study(db) -> Study:
    return Study.objects.get(registry_id="NCT05471050")


@pytest.fixture
def multisite_study(db) -> Study:
    return Study.objects.get(registry_id="NCT03304288")


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", password="root-pass-2026")


@pytest.fixture
def make_user(db):
    """make_user("alice", "coordinator", "NCT03304288", ["PKUPH"]) → a user with that grant."""

    def make(username: str, role: str, registry_id: str, sites: list[str] | None = None):
        grant, _ = grant_access(
            username=username, role=role, registry_id=registry_id, site_codes=sites or []
        )
        return grant.user

    return make


@pytest.fixture
def client_for():
    """An API client authenticated with the user's token, as a real client would be."""

    def make(user) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def make_patient(db):
    def make(study: Study, site_code: str, *, actor=None, **overrides):
        site = study.sites.get(code=site_code)
        if actor is None:
            actor = get_user_model().objects.get_or_create(
                username="fixture-admin", defaults={"is_superuser": True}
            )[0]
        values = {
            "sex": "F",
            "birth_date": dt.date(1980, 5, 17),
            "height_cm": Decimal("165.0"),
            "weight_kg": Decimal("60.0"),
            "screened_on": dt.date(2025, 1, 6),
        }
        values.update(overrides)
        return patient_create(actor=actor, study=study, site=site, **values)

    return make


@pytest.fixture
def api_client_plain() -> APIClient:
    return APIClient()
