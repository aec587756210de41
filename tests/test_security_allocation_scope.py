"""Issue 13, finding 1: a data manager granted some sites sees only those sites' allocation
slots, and not the seed (which would regenerate every site's list)."""

from __future__ import annotations

import pytest

from trials.randomization.models import AllocationListView

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(multisite_study, allocation_list):
    return allocation_list(multisite_study, seed=11, size=6)


def test_site_scoped_data_manager_sees_only_their_sites_slots(client_for, make_user, generated):
    client = client_for(make_user("dora", "data_manager", "NCT03304288", ["PKUPH"]))
    response = client.get(f"/api/allocation-lists/{generated.pk}/slots/")
    assert response.status_code == 200
    body = response.json()
    assert body["seed"] is None
    assert {slot["stratum"] for slot in body["slots"]} == {"PKUPH"}
    assert [slot["number"] for slot in body["slots"]] == list(
        generated.slots.filter(stratum="PKUPH").order_by("number").values_list("number", flat=True)
    )
    assert len(body["slots"]) == 6
    assert AllocationListView.objects.filter(allocation_list=generated).count() == 1


def test_two_sites_grant_sees_both_sites(client_for, make_user, generated):
    client = client_for(make_user("dora", "data_manager", "NCT03304288", ["PKUPH", "BJH"]))
    body = client.get(f"/api/allocation-lists/{generated.pk}/slots/").json()
    assert {slot["stratum"] for slot in body["slots"]} == {"PKUPH", "BJH"}
    assert len(body["slots"]) == 12


def test_study_wide_data_manager_sees_every_slot_and_the_seed(client_for, make_user, generated):
    client = client_for(make_user("dana", "data_manager", "NCT03304288"))
    body = client.get(f"/api/allocation-lists/{generated.pk}/slots/").json()
    assert body["seed"] == 11
    assert len(body["slots"]) == 24


def test_admin_inline_shows_only_the_sites_slots(client, make_user, generated):
    user = make_user("dora", "data_manager", "NCT03304288", ["PKUPH"])
    user.is_staff = True
    user.save()
    client.force_login(user)
    response = client.get(f"/admin/randomization/allocationlist/{generated.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "TONGREN" not in page and "NAVY" not in page
    assert page.count(">PKUPH<") == 6
    assert "Seed" not in page
