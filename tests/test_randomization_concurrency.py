"""Allocation under concurrency: no slot to two patients, no patient with two slots.

The threaded test fires 60 randomize requests at once, each thread with its own database
connection, and checks the outcome. On PostgreSQL the requests really overlap (row locks with
SKIP LOCKED and the conditional claim are what keep them apart). SQLite's in-memory test
database (shared cache) refuses a second concurrent writer with "database table is locked"
(SQLITE_LOCKED, which its busy timeout does not cover), so on SQLite the same threads take turns
(`SQLITE_WRITERS`), as SQLite's single writer would; the guard that keeps SQLite correct, the
conditional claim, is exercised deterministically by `test_a_slot_taken_meanwhile_is_skipped`.
"""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import nullcontext

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from ecrf.domain.randomization import AllocationSlot as PlannedSlot
from ecrf.domain.randomization import block_balance
from patients import allocation
from patients.models import Patient
from patients.randomization import patient_randomize
from trials.models import Study
from trials.randomization.models import AllocationSlot
from trials.services import load_protocol

REQUESTS = 60
SQLITE_WRITERS = threading.Lock()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_randomizations_each_get_exactly_one_slot(
    make_patient, screen_eligible, allocation_list, make_user, client_for
):
    # A transactional test starts from an empty (flushed) database: load what it needs.
    load_protocol("NCT05471050")
    study = Study.objects.get(registry_id="NCT05471050")
    patients = [screen_eligible(make_patient(study, "PKUPH")) for _ in range(REQUESTS)]
    allocation_list(study, seed=2024, size=REQUESTS + 20)
    users = [make_user(f"ivy{i}", "investigator", "NCT05471050") for i in range(REQUESTS)]
    clients = [client_for(user) for user in users]
    take_turns = SQLITE_WRITERS if connection.vendor == "sqlite" else nullcontext()
    start = threading.Barrier(REQUESTS)
    answers: dict[int, int] = {}

    def randomize(client, patient):
        try:
            start.wait()
            with take_turns:
                response = client.post(f"/api/patients/{patient.pk}/randomize/", {})
            answers[patient.pk] = response.status_code
        finally:
            connections.close_all()  # each thread opened its own connection

    threads = [
        threading.Thread(target=randomize, args=(client, patient))
        for client, patient in zip(clients, patients, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(answers.values()) == {201: REQUESTS}
    taken = list(
        AllocationSlot.objects.filter(patient__isnull=False).select_related("arm", "patient")
    )
    # One slot per patient, no slot shared, and the arm given is the slot's arm.
    assert sorted(slot.patient_id for slot in taken) == sorted(p.pk for p in patients)
    assert len({slot.pk for slot in taken}) == REQUESTS
    assert all(slot.patient.arm_id == slot.arm_id for slot in taken)
    # The first 60 numbers of the stratum were used, without a gap.
    first_numbers = AllocationSlot.objects.order_by("number").values_list("number", flat=True)
    assert sorted(slot.number for slot in taken) == list(first_numbers[:REQUESTS])
    # Every block handed out completely is balanced 1:1.
    planned = [PlannedSlot(s.number, s.stratum, s.arm.code, s.block, s.block_size) for s in taken]
    complete = [
        b for b in block_balance([("TAC_DAN", 1), ("DAN", 1)], planned).values() if b.complete
    ]
    assert complete and all(b.balanced for b in complete)
    assert Patient.objects.filter(status="randomized").count() == REQUESTS


@pytest.mark.django_db
def test_a_slot_taken_meanwhile_is_skipped(
    monkeypatch, study, make_patient, screen_eligible, allocation_list
):
    """Between reading the next free slot and claiming it, another transaction took it (what
    happens on a database without row locks): the claim finds no free row and takes the next."""
    allocation_list(study, size=10)
    racer, patient = (screen_eligible(make_patient(study, "PKUPH")) for _ in range(2))
    real_claim = allocation._claim
    stolen = []

    def claim_after_a_rival(candidate, *args):
        if not stolen:  # the rival commits first, with a plain update of the same row
            AllocationSlot.objects.filter(pk=candidate.pk).update(
                patient=racer, allocated_at=timezone.now(), randomized_on=timezone.localdate()
            )
            stolen.append(candidate.number)
        return real_claim(candidate, *args)

    monkeypatch.setattr(allocation, "_claim", claim_after_a_rival)
    actor = get_user_model().objects.get(username="fixture-admin")
    slot = patient_randomize(actor=actor, patient=patient)
    assert stolen == [1001]
    assert slot.number == 1002
    assert AllocationSlot.objects.get(number=1001).patient == racer


@pytest.mark.django_db
def test_the_database_refuses_a_second_slot_for_a_patient(study, make_patient, allocation_list):
    allocation_list(study, size=4)
    patient = make_patient(study, "PKUPH")
    first, second = AllocationSlot.objects.order_by("number")[:2]
    AllocationSlot.objects.filter(pk=first.pk).update(
        patient=patient, allocated_at=timezone.now(), randomized_on=timezone.localdate()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationSlot.objects.filter(pk=second.pk).update(
            patient=patient, allocated_at=timezone.now(), randomized_on=timezone.localdate()
        )


@pytest.mark.django_db
def test_the_database_refuses_a_duplicate_number_and_a_half_allocated_slot(study, allocation_list):
    allocation_list(study, size=4)
    slot = AllocationSlot.objects.order_by("number").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationSlot.objects.create(
            allocation_list=slot.allocation_list, number=slot.number, stratum="PKUPH", arm=slot.arm
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationSlot.objects.filter(pk=slot.pk).update(allocated_at=timezone.now())
