"""The admin as a coordinator reads and corrects it: voiding with a reason (the API's void path),
plain numbers, ×ULN for high values only, timestamps with their zone, forms that offer only
what applies (the arm's drugs), the eligibility checklist in words and the CONSORT table."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from patients.services import consent_record
from visits.labs.services import lab_result_create
from visits.models import Visit
from visits.services import visit_calendar_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - dt.timedelta(days=1)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cora(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def patient(multisite_study, make_patient):
    return make_patient(multisite_study, "PKUPH", screened_on=TODAY - dt.timedelta(days=3))


def lab(patient, actor, value: str, *, test="ALT", unit="U/L", lln="7", uln="40", accession="A1"):
    return lab_result_create(
        actor=actor, patient=patient, test_code=test, value=Decimal(value), unit=unit,
        lln=Decimal(lln), uln=Decimal(uln), source_accession=accession,
        collected_at=dt.datetime.combine(YESTERDAY, dt.time(8, 30), tzinfo=dt.UTC),
    )  # fmt: skip


def form_errors(response) -> list[str]:
    return [str(e) for errors in response.context["form"].errors.values() for e in errors]


def test_a_patient_entered_in_error_is_voided_with_a_reason(cora, patient):
    client = signed_in(cora)
    change = client.get(f"/admin/patients/patient/{patient.pk}/change/")
    void_url = f"/admin/patients/patient/{patient.pk}/void/"
    assert change.context["void_url"] == void_url

    page = client.get(void_url)
    assert page.status_code == 200
    assert page.context["form"]["expected_version"].value() == 1
    refused = client.post(void_url, {"reason": "  ", "expected_version": "1"})
    assert form_errors(refused) == ["This field is required."]
    patient.refresh_from_db()
    assert (patient.is_voided, patient.version) == (False, 1)

    done = client.post(void_url, {"reason": "Screened twice", "expected_version": "1"})
    assert done.status_code == 302 and done["Location"].endswith(f"/{patient.pk}/change/")
    patient.refresh_from_db()
    assert (patient.is_voided, patient.void_reason, patient.voided_by, patient.version) == (
        True, "Screened twice", cora, 2
    )  # fmt: skip
    assert patient.history.first().history_change_reason == "Screened twice"
    # Voided: the page says so and offers no second void; the list keeps it, flagged.
    change = client.get(f"/admin/patients/patient/{patient.pk}/change/")
    assert "void_url" not in change.context
    assert "This record is voided: Screened twice (cora, " in change.content.decode()
    listed = client.get("/admin/patients/patient/")
    assert "is_voided" in listed.context["cl"].list_display


def test_a_stale_void_and_the_service_s_refusals_show_on_the_form(cora, patient, superuser):
    client = signed_in(cora)
    stale = client.post(
        f"/admin/patients/patient/{patient.pk}/void/",
        {"reason": "Screened twice", "expected_version": "0"},
    )
    assert stale.status_code == 200 and form_errors(stale)
    # A scheduled visit is not voided: its service says what to do instead.
    patient.status, patient.day1 = "randomized", TODAY
    patient.arm = patient.study.arms.get(code="RTX")
    patient.save()
    visit_calendar_create(actor=superuser, patient=patient, day1=TODAY,
                          protocol_version=patient.protocol_version, reason="test")  # fmt: skip
    visit = Visit.objects.get(patient=patient, code="D1")
    refused = client.post(
        f"/admin/visits/visit/{visit.pk}/void/", {"reason": "wrong", "expected_version": "1"}
    )
    assert form_errors(refused) == [
        "A scheduled visit stays on the calendar; record it as missed instead."
    ]
    patient.refresh_from_db()
    visit.refresh_from_db()
    assert (patient.is_voided, visit.is_voided) == (False, False)


def test_who_may_not_void_is_not_offered_it(make_user, cora, patient, superuser, multisite_study):
    result = lab(patient, superuser, "130")
    monitor = signed_in(make_user("mona", "monitor", "NCT03304288", ["PKUPH"]))
    change = monitor.get(f"/admin/labs/labresult/{result.pk}/change/")
    assert change.status_code == 200 and "void_url" not in change.context
    refused = monitor.post(
        f"/admin/labs/labresult/{result.pk}/void/", {"reason": "x", "expected_version": "1"}
    )
    assert refused.status_code == 302
    # Another site's coordinator does not even find the record.
    navy = signed_in(make_user("nina", "coordinator", "NCT03304288", ["NAVY"]))
    assert navy.get(f"/admin/labs/labresult/{result.pk}/void/").status_code == 404
    result.refresh_from_db()
    assert (result.is_voided, result.version) == (False, 1)


def test_a_consent_recorded_in_error_is_voided_from_its_page(cora, patient, superuser):
    consent = consent_record(actor=superuser, patient=patient, consented_at=TODAY,
                             consent_version="2.0")  # fmt: skip
    client = signed_in(cora)
    page = client.get(f"/admin/patients/patient/{patient.pk}/change/").content.decode()
    assert f'href="/admin/patients/consent/{consent.pk}/change/"' in page  # from the patient
    response = client.post(
        f"/admin/patients/consent/{consent.pk}/void/",
        {"reason": "Signed form belongs to another patient", "expected_version": "1"},
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert (consent.is_voided, consent.void_reason, consent.version) == (
        True, "Signed form belongs to another patient", 2
    )  # fmt: skip


def test_numbers_read_as_measured_and_times_uln_only_when_high(make_user, patient, superuser):
    high = lab(patient, superuser, "130")
    low = lab(patient, superuser, "35", test="PLAT", unit="10^9/L", lln="125", uln="350",
              accession="P1")  # fmt: skip
    assert (high.times_uln, low.times_uln) == (Decimal("3.2500"), Decimal("0.1000"))
    client = signed_in(superuser)
    listed = client.get("/admin/labs/labresult/", {"patient__id__exact": patient.pk})
    html = listed.content.decode()
    cells = dict(re.findall(r'<td class="field-(value|times_uln)">([^<]*)</td>', html)[:2])
    rows = re.findall(r'<td class="field-value">([^<]*)</td><td class="field-unit">', html)
    assert rows == ["130", "35"]
    assert re.findall(r'<td class="field-times_uln">([^<]*)</td>', html) == ["3.25", "—"]
    assert cells["value"] == "130"
    # Timestamps carry their zone.
    assert f"{YESTERDAY:%Y-%m-%d} 08:30 UTC" in html
    # The change form's input and the derived (read-only) values alike.
    form = client.get(f"/admin/labs/labresult/{high.pk}/change/").content.decode()
    assert 'name="value" value="130"' in form
    assert re.search(r'field-value_std.*?<div class="readonly">130</div>', form, re.S)
    # Seen by a monitor (nothing editable): plain numbers everywhere.
    monitor = signed_in(make_user("mona", "monitor", "NCT03304288", ["PKUPH"]))
    seen = monitor.get(f"/admin/labs/labresult/{low.pk}/change/").content.decode()
    assert re.search(r'field-value\b.*?<div class="readonly">35</div>', seen, re.S)
    assert re.search(r'field-times_uln.*?<div class="readonly">—</div>', seen, re.S)
    assert ".0000" not in seen
    patient_page = monitor.get(f"/admin/patients/patient/{patient.pk}/change/").content.decode()
    assert re.search(r'field-weight_kg.*?<div class="readonly">60</div>', patient_page, re.S)


def test_dose_forms_offer_the_drugs_of_the_patient_s_arm(
    superuser, study, make_patient, place_on_arm
):
    patient = place_on_arm(make_patient(study, "PKUPH"), "TAC_DAN", day1=TODAY)
    client = signed_in(superuser)
    for page in ("doserecord", "doseadjustment"):
        form = client.get(f"/admin/dosing/{page}/add/?patient={patient.pk}")
        choices = form.context["adminform"].form.fields["drug"].choices
        assert choices == [("", "---------"), ("tacrolimus", "tacrolimus"), ("danazol", "danazol")]


def test_the_eligibility_page_reads_as_a_checklist(
    cora, multisite_study, make_patient, screen_eligible
):
    patient = screen_eligible(make_patient(multisite_study, "PKUPH"))
    page = signed_in(cora).get(f"/admin/patients/patient/{patient.pk}/eligibility/")
    rows = {row[0]: row[2:] for row in page.context["rows"]}
    assert rows["plt_below_30"] == ["meets", "PLAT 20 10^9/L: < 30 10^9/L"]
    assert rows["itp_confirmed"] == [
        "meets",
        "answered by an investigator (only an investigator may confirm)",
    ]
    exclusions = [r for r in page.context["rows"] if r[1] == "exclusion"]
    assert exclusions and {r[2] for r in exclusions} == {"does not apply"}
    html = page.content.decode()
    assert "True" not in html.split('id="content-main"')[1].split("<form")[0]
    assert "only an investigator may confirm this item" in html
    assert ">Does not apply</option>" in html and ">Meets</option>" in html


def test_the_study_report_shows_consort_as_tables(make_user, multisite_study, make_patient):
    make_patient(multisite_study, "PKUPH")
    client = signed_in(make_user("stan", "statistician", "NCT03304288"))
    page = client.get(f"/admin/endpoints/patientassessment/report/{multisite_study.pk}/")
    html = page.content.decode()
    assert '<table id="consort-screening">' in html and '<table id="consort-arms">' in html
    assert '<tr><th scope="row">screened</th><td>1</td></tr>' in html
    assert '<th scope="row">RTX — ' in html
    assert "{&#x27;" not in html  # no dictionary printed
