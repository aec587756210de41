"""The coordinator's morning in a real (headless) Chromium: the worklists on the admin index,
each list they open, and a wrong record voided with a reason.

Time cannot be made to pass in a browser, so the patients' past (randomized weeks ago, a lab
value, serious events) is entered through the services; everything the coordinator does is
done in the browser, and what it leaves is read back from the database.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from selenium.webdriver.common.by import By

from patients.models import Consent
from patients.services import consent_record
from tests.browser.test_coordinator_course import PASSWORD, Admin
from trials.access_grants import grant_access
from trials.models import Study
from trials.services import load_protocol
from visits.labs.models import LabResult
from visits.labs.services import lab_result_create
from visits.safety.models import AdverseEvent, CtcaeTerm
from visits.safety.services import adverse_event_create
from visits.services import visit_calendar_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STUDY = "NCT03304288"


@pytest.fixture
def morning(db, make_patient, place_on_arm):
    """Two patients randomized 20 days ago, one at the coordinator's site (PKUPH) and one at
    another (NAVY), each with a high ALT (CTCAE grade 2 suggested) and a serious event the site
    learnt of two hours ago; the coordinator's patient also has a consent."""
    load_protocol(STUDY)
    call_command("import_ctcae", verbosity=0)
    study = Study.objects.get(registry_id=STUDY)
    grant_access(username="cora", role="coordinator", registry_id=STUDY, site_codes=["PKUPH"],
                 password=PASSWORD)  # fmt: skip
    actor = get_user_model().objects.create_superuser("setup", password="setup-pass-2026")
    today = timezone.localdate()
    day1 = today - dt.timedelta(days=20)
    patients = {}
    for site in ("PKUPH", "NAVY"):
        patient = make_patient(study, site, actor=actor, screened_on=day1 - dt.timedelta(days=5))
        patient = place_on_arm(patient, "RTX", day1=day1, status="on_treatment")
        version = patient.protocol_version
        visit_calendar_create(
            actor=actor, patient=patient, day1=day1, protocol_version=version, reason="Randomized"
        )
        lab_result_create(
            actor=actor, patient=patient, test_code="ALT", value=Decimal("130"), unit="U/L",
            lln=Decimal("7"), uln=Decimal("40"), source_accession=f"ALT-{site}",
            collected_at=timezone.now() - dt.timedelta(days=1),
        )  # fmt: skip
        adverse_event_create(
            actor=actor, patient=patient, term=CtcaeTerm.objects.get(term="Epistaxis"),
            verbatim="Nosebleed needing packing", onset_date=today, grade=3,
            outcome="recovering", is_serious=True, seriousness_criteria=["hospitalisation"],
            site_aware_at=timezone.now() - dt.timedelta(hours=2),
        )  # fmt: skip
        patients[site] = patient
    consent_record(actor=actor, patient=patients["PKUPH"], consented_at=day1 - dt.timedelta(days=5),
                   consent_version="2.0")  # fmt: skip
    return patients


def counts_on_index(admin: Admin) -> dict[str, str]:
    rows = admin.driver.find_elements(By.CSS_SELECTOR, "#worklists tr")
    return {
        row.get_attribute("id"): row.find_element(By.CSS_SELECTOR, "td.count").text for row in rows
    }


def listed(admin: Admin) -> list[str]:
    """The rows of an admin list, as the text of their first two columns."""
    rows = admin.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    cells = "th:not(.action-checkbox), td:not(.action-checkbox)"
    return [" ".join(c.text for c in row.find_elements(By.CSS_SELECTOR, cells)[:2]) for row in rows]


def filter_choices(admin: Admin, title: str) -> list[str]:
    """The choices of one list filter in the sidebar (its heading names it)."""
    return admin.driver.execute_script(
        """const [title] = arguments;
        for (const details of document.querySelectorAll('#changelist-filter details')) {
          if (details.querySelector('summary').textContent.trim().startsWith('By ' + title))
            return [...details.querySelectorAll('li a')].map(a => a.textContent.trim());
        }
        return null;""",
        title,
    )


def test_the_coordinator_s_morning_worklists(driver, live_server, morning):
    own = morning["PKUPH"]
    admin = Admin(driver, live_server.url)
    admin.login("cora")
    admin.open("/admin/")
    # Day 20: D1, W1 (day 7 ± 2) and W2 (day 14 ± 2) have closed unrecorded; W3 (day 21 ± 2)
    # and W4 (opens day 26) fall in the coming week. The NAVY patient is not counted.
    assert counts_on_index(admin) == {
        "worklist-overdue": "3",
        "worklist-week": "2",
        "worklist-awaiting_ctcae": "1",
        "worklist-sae_window": "1",
    }
    overdue = driver.find_element(By.CSS_SELECTOR, "#worklist-overdue td.count")
    assert overdue.value_of_css_property("color") == "rgba(186, 33, 33, 1)"  # late: in red
    admin.screenshot("worklists")

    driver.find_element(By.LINK_TEXT, "Overdue visits").click()
    assert listed(admin) == [f"{own.subject_id} D1", f"{own.subject_id} W1", f"{own.subject_id} W2"]
    # One site, one study: no filter offers another site's or study's name.
    assert (filter_choices(admin, "site"), filter_choices(admin, "study")) == (None, None)
    assert "NAVY" not in driver.find_element(By.ID, "changelist-filter").text

    admin.open("/admin/")
    driver.find_element(By.LINK_TEXT, "Visits due this week").click()
    assert listed(admin) == [f"{own.subject_id} W3", f"{own.subject_id} W4"]

    # The SAE list says when the report is due, with the time zone and the time left.
    admin.open("/admin/")
    driver.find_element(By.LINK_TEXT, "SAEs inside their 24-hour reporting window").click()
    [due] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "td.field-report_due")]
    event = AdverseEvent.objects.get(patient=own)
    deadline = timezone.localtime(event.reporting_deadline)
    assert due.startswith(f"{deadline:%Y-%m-%d %H:%M} UTC (in 21 h") or due.startswith(
        f"{deadline:%Y-%m-%d %H:%M} UTC (in 22 h"
    ), due

    # The lab awaiting a decision: "Record as adverse event" opens the event's form with the
    # patient, the lab result, the suggested term and grade and the day preselected.
    admin.open("/admin/")
    driver.find_element(By.LINK_TEXT, "Labs awaiting an investigator's CTCAE decision").click()
    assert listed(admin) == [f"{own.subject_id} " + listed(admin)[0].split(" ", 1)[1]]
    row = driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr")
    assert row.find_element(By.CSS_SELECTOR, "td.field-value").text == "130"  # not 130.0000
    assert row.find_element(By.CSS_SELECTOR, "td.field-times_uln").text == "3.25"
    driver.find_element(By.ID, "toggle-nav-sidebar").click()  # room for the list
    admin.screenshot("worklist-labs")
    driver.find_element(By.ID, "toggle-nav-sidebar").click()  # as it was (kept in the browser)
    row.find_element(By.LINK_TEXT, "Record as adverse event").click()
    term = driver.find_element(By.CSS_SELECTOR, ".field-term .select2-selection__rendered").text
    assert term.startswith("Alanine aminotransferase increased"), term
    assert driver.find_element(By.ID, "id_grade").get_attribute("value") == "2"
    admin.type("id_verbatim", "ALT raised, asymptomatic")
    admin.choose_value("id_outcome", "not_recovered")
    admin.submit("_save")
    assert "was added successfully" in admin.success(), admin.errors()
    recorded = AdverseEvent.objects.get(patient=own, lab_result__isnull=False)
    alt = LabResult.objects.get(patient=own, test_code="ALT")
    assert (recorded.lab_result_id, recorded.grade, recorded.term.term) == (
        alt.pk, 2, "Alanine aminotransferase increased"
    )  # fmt: skip
    admin.open("/admin/")
    assert counts_on_index(admin)["worklist-awaiting_ctcae"] == "0"


def test_a_wrong_record_is_voided_with_a_reason(driver, live_server, morning):
    own = morning["PKUPH"]
    alt = LabResult.objects.get(patient=own, test_code="ALT")
    admin = Admin(driver, live_server.url)
    admin.login("cora")

    # The change page reads as measured: no trailing zeros; ×ULN for a high value.
    admin.open(f"/admin/labs/labresult/{alt.pk}/change/")
    assert driver.find_element(By.ID, "id_value").get_attribute("value") == "130"
    assert driver.find_element(By.CSS_SELECTOR, ".field-value_std .readonly").text == "130"
    assert driver.find_element(By.CSS_SELECTOR, ".field-times_uln .readonly").text == "3.25"

    driver.find_element(By.ID, "void-link").click()
    assert "Void this lab result?" in admin.text()
    admin.submit()
    assert admin.errors() == ["This field is required."]
    admin.type("id_reason", "Sample of another patient (wrong label)")
    admin.submit()
    assert "voided" in admin.success()
    assert "This record is voided: Sample of another patient (wrong label) (cora, " in admin.text()
    assert " UTC)" in admin.text()  # the time it was voided, with its zone
    assert not driver.find_elements(By.ID, "void-link")
    alt.refresh_from_db()
    assert (alt.is_voided, alt.void_reason, alt.voided_by.username, alt.version) == (
        True, "Sample of another patient (wrong label)", "cora", 2
    )  # fmt: skip
    assert alt.history.first().history_change_reason == "Sample of another patient (wrong label)"

    # The list keeps it, flagged; the labs worklist no longer counts it.
    admin.open(f"/admin/labs/labresult/?patient__id__exact={own.pk}")
    flag = driver.find_element(By.CSS_SELECTOR, "#result_list td.field-is_voided img")
    assert flag.get_attribute("alt") == "True"
    admin.open("/admin/")
    assert driver.find_element(By.CSS_SELECTOR, "#worklist-awaiting_ctcae td.count").text == "0"

    # A consent recorded in error: from the patient's page to the consent, then voided.
    admin.open(f"/admin/patients/patient/{own.pk}/change/")
    driver.find_element(By.CSS_SELECTOR, "#consents-group a.inlineviewlink").click()
    driver.find_element(By.ID, "void-link").click()
    admin.type("id_reason", "Recorded on the wrong patient")
    admin.submit()
    assert "voided" in admin.success()
    consent = Consent.objects.get(patient=own)
    assert (consent.is_voided, consent.void_reason) == (True, "Recorded on the wrong patient")
    admin.screenshot("voided-consent")

    # Another site's record: not even its void page exists for this coordinator.
    other = LabResult.objects.get(patient=morning["NAVY"], test_code="ALT")
    admin.open(f"/admin/labs/labresult/{other.pk}/void/")
    assert "Not Found" in driver.title or "not found" in admin.text().lower()
    other.refresh_from_db()
    assert other.is_voided is False
