"""Shared fixtures: the shipped protocols are loaded once into the test database."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from ecrf.tokens import issue_token
from patients.services import patient_create
from trials.access_grants import grant_access
from trials.models import Study
from trials.services import load_protocol, shipped_protocol_paths


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL (row locks, triggers, pg_dump, concurrent writers).

    CI runs on PostgreSQL, where they all run; pointed at another database in CI, the run stops
    at once instead of passing without them. On a laptop's SQLite they are deselected, and the
    run says so at the end (set DATABASE_URL=postgres://... to run them).
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    postgres_only = [item for item in items if item.get_closest_marker("postgres")]
    if not postgres_only:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            f"{len(postgres_only)} tests need PostgreSQL; CI must run with DATABASE_URL=postgres://..."
        )
    config.hook.pytest_deselected(items=postgres_only)
    items[:] = [item for item in items if not item.get_closest_marker("postgres")]
    config._postgres_notice = (
        f"{len(postgres_only)} PostgreSQL-only tests deselected on {connection.vendor}; "
        "run with DATABASE_URL=postgres://... (as CI does) to include them"
    )


def pytest_terminal_summary(terminalreporter, config):
    notice = getattr(config, "_postgres_notice", None)
    if notice:
        terminalreporter.write_line(notice, yellow=True, bold=True)


def load_shipped_protocols() -> None:
    for path in shipped_protocol_paths():
        load_protocol(str(path))


def _flush_past_append_only_triggers() -> None:
    """Transactional tests end with `flush` (TRUNCATE of every table); on PostgreSQL the audit
    tables refuse TRUNCATE (ecrf/append_only.py) unless a superuser session asks for
    maintenance. Only this teardown does; every test body runs with the triggers active."""
    from django.db import connections
    from django.test import testcases

    original = testcases.TransactionTestCase._fixture_teardown

    def teardown(self):
        postgres = [c for c in connections.all() if c.vendor == "postgresql"]
        for connection in postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET ecrf.history_maintenance = 'on'")
        try:
            original(self)
        finally:
            for connection in postgres:
                with connection.cursor() as cursor:
                    cursor.execute("RESET ecrf.history_maintenance")

    testcases.TransactionTestCase._fixture_teardown = teardown


_flush_past_append_only_triggers()


@contextlib.contextmanager
def history_maintenance():
    """For test set-up that must rewrite history (e.g. backdating it): lets this transaction
    through the append-only triggers (superuser test connection only; ecrf/append_only.py)."""
    from django.db import connection, transaction

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL ecrf.history_maintenance = 'on'")
        yield


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
        key, _ = issue_token(user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
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


# --- Enrollment (issue 3): recorded screening data, eligible patients, allocation lists --------


def _fixture_admin():
    return get_user_model().objects.get_or_create(
        username="fixture-admin", defaults={"is_superuser": True}
    )[0]


@pytest.fixture
def record_lab(db):
    """record_lab(patient, "ALT", "130", "U/L", on=date(2025, 1, 5), uln="40") → a LabResult
    stored as the lab services would store it (standard-unit value and range filled in)."""
    from ecrf.audit import save_audited
    from ecrf.domain import units
    from visits.labs.models import LabResult

    def record(patient, test_code, value, unit, *, on=dt.date(2025, 1, 5), lln=None, uln=None):
        def std(raw):
            return None if raw is None else units.to_standard(test_code, Decimal(raw), unit)

        collected = dt.datetime.combine(on, dt.time(8, 0), tzinfo=dt.UTC)
        result = LabResult(
            patient=patient,
            collected_at=collected,
            test_code=test_code,
            value=Decimal(value),
            unit=unit,
            lln=None if lln is None else Decimal(lln),
            uln=None if uln is None else Decimal(uln),
            value_std=std(value),
            unit_std=units.standard_unit(test_code),
            lln_std=std(lln),
            uln_std=std(uln),
            range_source="result" if (lln or uln) else "",
        )
        return save_audited(result, actor=_fixture_admin(), reason="Lab result recorded")

    return record


@pytest.fixture
def record_ecog(db):
    from ecrf.audit import save_audited
    from visits.findings.models import EcogAssessment

    def record(patient, score, *, on=dt.date(2025, 1, 5)):
        assessment = EcogAssessment(patient=patient, assessed_on=on, score=score)
        return save_audited(assessment, actor=_fixture_admin(), reason="ECOG recorded")

    return record


# Values that meet every automatic criterion of the shipped protocols.
NORMAL_SCREENING_PANEL = [
    ("PLAT", "20", "10^9/L", None, None),
    ("WBC", "5.1", "10^9/L", "3.5", "9.5"),
    ("HGB", "121", "g/L", "115", "150"),
    ("ALT", "30", "U/L", "7", "40"),
    ("AST", "25", "U/L", "13", "35"),
    ("CREAT", "70", "umol/L", "45", "84"),
    ("BILI", "10", "umol/L", "0", "21"),
]


@pytest.fixture
def screen_eligible(db, record_lab, record_ecog):
    """screen_eligible(patient) → records a normal screening panel, ECOG 1, consent on
    2025-01-03, and an eligibility evaluation (on 2025-01-06) with every investigator-confirmed
    criterion answered favourably; the patient is then eligible."""
    from patients.eligibility import eligibility_evaluate
    from patients.services import consent_record

    def screen(patient, *, actor=None, consent=True, on=dt.date(2025, 1, 6)):
        actor = actor or _fixture_admin()
        for code, value, unit, lln, uln in NORMAL_SCREENING_PANEL:
            record_lab(patient, code, value, unit, lln=lln, uln=uln)
        record_ecog(patient, 1)
        if consent:
            consent_record(
                actor=actor,
                patient=patient,
                consented_at=dt.date(2025, 1, 3),
                consent_version="1.0",
            )
        criteria = patient.study.current_protocol().eligibility_criteria.filter(rule__isnull=True)
        answers = {c.code: c.kind == "inclusion" for c in criteria}
        assessment = eligibility_evaluate(
            actor=actor, patient=patient, answers=answers, evaluated_on=on
        )
        assert assessment.eligible, assessment.criteria
        patient.refresh_from_db()
        return patient

    return screen


@pytest.fixture
def allocation_list(db):
    """allocation_list(study, seed=1, size=20) → a generated, active allocation list."""
    from trials.randomization.services import allocation_list_generate

    def make(study, *, seed=1, size=20, actor=None):
        return allocation_list_generate(
            actor=actor or _fixture_admin(), study=study, seed=seed, slots_per_stratum=size
        )

    return make


# --- Dosing and findings (issue 4): a patient on an arm, tacrolimus troughs -----------------


def _dosing_fixture_actor():
    return get_user_model().objects.get_or_create(
        username="fixture-admin", defaults={"is_superuser": True}
    )[0]


@pytest.fixture
def place_on_arm(db):
    """place_on_arm(patient, "TAC_DAN", day1=date(...)) → the patient on that arm from day 1
    (arm, day 1 and status set directly; the randomization API has its own tests)."""
    from ecrf.audit import save_audited

    def place(patient, arm_code, *, day1, status="randomized"):
        patient.arm = patient.study.arms.get(code=arm_code)
        patient.day1 = day1
        patient.status = status
        return save_audited(patient, actor=_dosing_fixture_actor(), reason="Randomized (test)")

    return place


@pytest.fixture
def record_trough(db):
    """record_trough(patient, "2.5", on=date(...)) → a tacrolimus trough (TACRO, ng/mL)."""
    from ecrf.audit import save_audited
    from visits.labs.models import LabResult

    def record(patient, ng_ml, *, on):
        value = Decimal(ng_ml)
        trough = LabResult(
            patient=patient,
            collected_at=dt.datetime.combine(on, dt.time(7, 30), tzinfo=dt.UTC),
            test_code="TACRO",
            value=value,
            unit="ng/mL",
            value_std=value,
            unit_std="ng/mL",
        )
        return save_audited(trough, actor=_dosing_fixture_actor(), reason="Trough (test)")

    return record


# --- Dose adjustments citing adverse events (consolidation): an AE of a patient ------------------


@pytest.fixture
def record_adverse_event(db):
    """record_adverse_event(patient, onset=date(...)) → a grade 1 "Bruising" adverse event."""
    from ecrf.audit import save_audited
    from visits.safety.models import AdverseEvent, CtcaeTerm

    def record(patient, *, onset):
        event = AdverseEvent(
            patient=patient,
            term=CtcaeTerm.objects.get(ctcae_version="5.0", term="Bruising"),
            verbatim="Bruises on both shins",
            onset_date=onset,
            grade=1,
            outcome="not_recovered",
        )
        return save_audited(event, actor=_dosing_fixture_actor(), reason="Adverse event (test)")

    return record
