"""The coordinator's worklists (visits.worklists): what each list holds, counted on the admin
index for the user's sites only. The browser course is tests/browser/test_worklists_and_void.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from ecrf.audit import save_audited
from trials.models import Study
from visits.labs.models import LabResult
from visits.labs.services import lab_result_create
from visits.safety.models import CtcaeTerm
from visits.safety.services import adverse_event_create
from visits.services import visit_calendar_create
from visits.worklists import worklist_summary

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY1 = TODAY - dt.timedelta(days=20)  # D1, W1, W2 overdue; W3 and W4 due within 7 days


@pytest.fixture
def site_patient(multisite_study, make_patient, place_on_arm, superuser):
    """site_patient("PKUPH") → a patient of NCT03304288 on treatment since day 20 ago, with
    a calendar."""

    def make(site_code: str, *, status: str = "on_treatment"):
        patient = make_patient(multisite_study, site_code, screened_on=DAY1 - dt.timedelta(days=5))
        patient = place_on_arm(patient, "RTX", day1=DAY1, status=status)
        visit_calendar_create(
            actor=superuser, patient=patient, day1=DAY1,
            protocol_version=patient.protocol_version, reason="Randomized",
        )  # fmt: skip
        return patient

    return make


def high_alt(patient, actor, *, days_ago: int = 1, accession: str = "ALT-1") -> LabResult:
    return lab_result_create(
        actor=actor, patient=patient, test_code="ALT", value=Decimal("130"), unit="U/L",
        lln=Decimal("7"), uln=Decimal("40"), source_accession=accession,
        collected_at=timezone.now() - dt.timedelta(days=days_ago),
    )  # fmt: skip


def serious_event(patient, actor, *, aware_hours_ago: float, lab_result=None, term="Bruising"):
    return adverse_event_create(
        actor=actor, patient=patient, term=CtcaeTerm.objects.get(term=term),
        verbatim="as reported", onset_date=TODAY - dt.timedelta(days=2), grade=2,
        outcome="recovering", is_serious=aware_hours_ago is not None,
        seriousness_criteria=["hospitalisation"] if aware_hours_ago is not None else [],
        site_aware_at=None if aware_hours_ago is None
        else timezone.now() - dt.timedelta(hours=aware_hours_ago),
        lab_result=lab_result,
    )  # fmt: skip


def counts(user) -> dict[str, int]:
    return {w.key: w.count for w in worklist_summary(user)}


def test_worklists_count_only_the_user_s_sites(site_patient, make_user, superuser):
    own, other = site_patient("PKUPH"), site_patient("NAVY")
    for number, patient in enumerate((own, other)):
        high_alt(patient, superuser, accession=f"ALT-{number}")
        serious_event(patient, superuser, aware_hours_ago=2)
    cora = make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])
    expected = {"overdue": 3, "week": 2, "awaiting_ctcae": 1, "sae_window": 1}
    assert counts(cora) == expected
    assert counts(superuser) == {key: 2 * n for key, n in expected.items()}
    # The index shows them, each linking to its list.
    client = Client()
    client.force_login(cora)
    page = client.get("/admin/").content.decode()
    assert '<a href="/admin/visits/visit/?worklist=overdue">Overdue visits</a>' in page
    assert '<a href="/admin/labs/labresult/?worklist=awaiting_ctcae">' in page
    listed = client.get("/admin/labs/labresult/", {"worklist": "awaiting_ctcae"})
    assert [r.patient_id for r in listed.context["cl"].result_list] == [own.pk]


def test_a_user_without_a_role_sees_no_worklist(django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x-pass-2026", is_staff=True)
    client = Client()
    client.force_login(nobody)
    assert 'id="worklists"' not in client.get("/admin/").content.decode()


def test_withdrawn_and_voided_patients_have_no_visits_due(site_patient, superuser):
    site_patient("PKUPH", status="withdrawn")
    voided = site_patient("PKUPH")
    voided.is_voided = True
    save_audited(voided, actor=superuser, reason="test: entered in error")
    assert counts(superuser)["overdue"] == counts(superuser)["week"] == 0


@pytest.mark.parametrize(
    ("decision", "awaiting"),
    [
        pytest.param(None, 1, id="no event yet"),
        pytest.param("from the lab", 0, id="event recorded from the result"),
        pytest.param("same term covering the day", 0, id="ongoing event of its term"),
        pytest.param("other term", 1, id="an event of another term decides nothing"),
        pytest.param("voided result", 0, id="a voided result awaits nothing"),
    ],
)
def test_labs_awaiting_a_ctcae_decision(site_patient, superuser, decision, awaiting):
    patient = site_patient("PKUPH")
    result = high_alt(patient, superuser)
    assert (result.ctcae_term, result.ctcae_grade) == ("Alanine aminotransferase increased", 2)
    if decision == "from the lab":
        serious_event(patient, superuser, aware_hours_ago=None, lab_result=result,
                      term="Alanine aminotransferase increased")  # fmt: skip
    elif decision == "same term covering the day":
        serious_event(patient, superuser, aware_hours_ago=None,
                      term="Alanine aminotransferase increased")  # fmt: skip
    elif decision == "other term":
        serious_event(patient, superuser, aware_hours_ago=None)
    elif decision == "voided result":
        result.is_voided = True
        save_audited(result, actor=superuser, reason="test: wrong patient")
    assert counts(superuser)["awaiting_ctcae"] == awaiting


@pytest.mark.parametrize(
    ("aware_hours_ago", "in_window"),
    [(0.5, 1), (23.9, 1), (24.1, 0), (None, 0)],
    ids=["just learnt", "nearly due", "deadline passed", "not serious"],
)
def test_saes_inside_their_reporting_window(site_patient, superuser, aware_hours_ago, in_window):
    serious_event(site_patient("PKUPH"), superuser, aware_hours_ago=aware_hours_ago)
    assert counts(superuser)["sae_window"] == in_window


def test_the_sae_list_says_when_the_report_is_due(site_patient, superuser):
    event = serious_event(site_patient("PKUPH"), superuser, aware_hours_ago=2)
    client = Client()
    client.force_login(superuser)
    response = client.get("/admin/safety/adverseevent/", {"worklist": "sae_window"})
    [row] = response.context["cl"].result_list
    due = response.context["cl"].model_admin.report_due(row)
    deadline = timezone.localtime(event.reporting_deadline)
    assert due.startswith(f"{deadline:%Y-%m-%d %H:%M} UTC (in 2")  # 21 h 59 min or 22 h
    assert due.endswith(" min)")


def test_study_and_site_filters_offer_only_the_user_s_own(make_user, multisite_study):
    cora = make_user("cora", "coordinator", "NCT03304288", ["PKUPH", "NAVY"])
    client = Client()
    client.force_login(cora)
    response = client.get("/admin/visits/visit/")
    filters = {spec.title: spec for spec in response.context["cl"].filter_specs}
    sites = [label for _, label in filters["site"].lookup_choices]
    navy, pkuph = (multisite_study.sites.get(code=c) for c in ("NAVY", "PKUPH"))
    assert sites == [f"NCT03304288 — NAVY {navy.name}", f"NCT03304288 — PKUPH {pkuph.name}"]
    assert "study" not in filters  # one study only: nothing to choose among
    # The patient form offers the same sites, named with their study.
    form = client.get("/admin/patients/patient/add/").context["adminform"].form
    assert [label for _, label in form.fields["site"].choices][1:] == sites
    assert Study.objects.count() > 1  # other studies exist, and are not offered


def test_the_four_counts_take_four_queries_however_many_records(
    site_patient, superuser, django_assert_num_queries
):
    for site in ("PKUPH", "NAVY", "PKUPH"):
        high_alt(site_patient(site), superuser, accession=f"ALT-{site}")
    with django_assert_num_queries(4):
        assert [w.count for w in worklist_summary(superuser)] == [9, 6, 3, 0]
