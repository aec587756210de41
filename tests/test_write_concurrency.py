"""Writes for different patients run in parallel: one patient's open transaction never holds up
another patient's write (issue 12). Each test runs the two sides in threads with their own
database connections; the writer sets a lock timeout, so being blocked fails instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction

from patients.randomization import patient_randomize
from patients.services import lock_patient, patient_create
from trials.models import Study
from trials.services import load_protocol
from visits.labs.services import lab_result_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY1 = dt.date(2025, 1, 8)
LOCK_TIMEOUT_MS = 1500


@pytest.fixture
def admin():
    return get_user_model().objects.get_or_create(
        username="fixture-admin", defaults={"is_superuser": True}
    )[0]


@pytest.fixture
def trial(db):
    # A transactional test starts from an empty (flushed) database: load what it needs.
    load_protocol("NCT05471050")
    return Study.objects.get(registry_id="NCT05471050")


def enter_platelets(actor, patient, minute: int):
    return lab_result_create(
        actor=actor,
        patient=patient,
        collected_at=dt.datetime(2025, 2, 1, 8, minute, tzinfo=dt.UTC),
        test_code="PLAT",
        value=Decimal("42"),
        unit="10^9/L",
    )


def write_while_held(hold, write) -> tuple[float, BaseException | None]:
    """Runs `hold()` in a transaction kept open in one thread while `write()` runs in another
    with a lock timeout; returns the writer's seconds and its error (None if it succeeded)."""
    holding, release = threading.Event(), threading.Event()
    outcome: dict = {"error": None}

    def holder():
        try:
            with transaction.atomic():
                hold()
                holding.set()
                release.wait(timeout=30)
        finally:
            holding.set()
            connection.close()

    def writer():
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
            started = time.perf_counter()
            try:
                write()
            except OperationalError as error:  # lock_timeout: the write was blocked
                outcome["error"] = error
            outcome["seconds"] = time.perf_counter() - started
        finally:
            connection.close()

    held = threading.Thread(target=holder)
    held.start()
    assert holding.wait(timeout=60)
    writing = threading.Thread(target=writer)
    writing.start()
    writing.join(timeout=60)
    release.set()
    held.join(timeout=60)
    return outcome["seconds"], outcome["error"]


def test_a_lab_result_for_b_is_not_blocked_by_a_locked_patient_a(
    trial, admin, make_patient, place_on_arm
):
    patient_a, patient_b = (
        place_on_arm(make_patient(trial, "PKUPH"), "DAN", day1=DAY1) for _ in range(2)
    )
    seconds, error = write_while_held(
        lambda: lock_patient(patient_a), lambda: enter_platelets(admin, patient_b, 1)
    )
    assert error is None
    assert seconds < LOCK_TIMEOUT_MS / 1000
    assert patient_b.lab_results.count() == 1


def test_the_same_patient_does_wait(trial, admin, make_patient, place_on_arm):
    """The control: a write for the locked patient itself queues (and here times out)."""
    patient_a = place_on_arm(make_patient(trial, "PKUPH"), "DAN", day1=DAY1)
    _, error = write_while_held(
        lambda: lock_patient(patient_a), lambda: enter_platelets(admin, patient_a, 2)
    )
    assert "lock timeout" in str(error)
    assert patient_a.lab_results.count() == 0


def test_open_writes_for_a_do_not_block_b(
    trial, admin, make_patient, place_on_arm, screen_eligible, allocation_list
):
    """A lab result, a randomization and a screening at the same site, each left uncommitted,
    hold no lock a lab result for another patient needs."""
    patient_b = place_on_arm(make_patient(trial, "PKUPH"), "DAN", day1=DAY1)
    patient_a = place_on_arm(make_patient(trial, "PKUPH"), "DAN", day1=DAY1)
    ready = screen_eligible(make_patient(trial, "PKUPH"))
    allocation_list(trial, size=10)
    # Both have a stored assessment, which each write then updates.
    enter_platelets(admin, patient_a, 0)
    enter_platelets(admin, patient_b, 0)
    site = trial.sites.get(code="PKUPH")
    holds = {
        "lab result for A": lambda: enter_platelets(admin, patient_a, 3),
        "randomization": lambda: patient_randomize(actor=admin, patient=ready, randomized_at=DAY1),
        "screening at the site": lambda: patient_create(
            actor=admin,
            study=trial,
            site=site,
            sex="M",
            birth_date=dt.date(1970, 1, 1),
            height_cm=Decimal("170"),
            weight_kg=Decimal("70"),
            screened_on=dt.date(2025, 1, 6),
        ),
    }
    for minute, (name, hold) in enumerate(holds.items(), start=10):
        seconds, error = write_while_held(
            hold, lambda m=minute: enter_platelets(admin, patient_b, m)
        )
        assert (name, error) == (name, None)
        assert seconds < LOCK_TIMEOUT_MS / 1000, name
    assert patient_b.lab_results.count() == 4
    ready.refresh_from_db()
    assert ready.status == "randomized"
