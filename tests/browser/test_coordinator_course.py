"""A coordinator's course through the admin in a real (headless) Chromium, on the live server.

Screening, consent, baseline labs and ECOG (coordinator) → eligibility confirmed (investigator)
→ randomization, a visit, a lab, an adverse event and a correction with a reason
(coordinator) → the casebook and the chart. Bad inputs are tried on the way and their messages
checked. The only thing prepared outside the browser is the study's randomization list (a data
manager's job with its own tests).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from patients.models import Patient
from trials.access_grants import grant_access
from trials.models import Study
from trials.randomization.services import allocation_list_generate
from trials.services import load_protocol
from visits.labs.models import LabResult
from visits.models import Visit
from visits.safety.models import AdverseEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STUDY = "NCT03304288"
# Seconds a page may take to answer a submit: a randomization writes the calendar, grades the
# screening labs and assesses the patient; on a loaded 2-core CI machine that has taken > 10 s.
PAGE_WAIT = 30
PASSWORD = "browser-pass-2026"
BASELINE_PANEL = [  # test, value, unit, LLN, ULN (a normal screening panel)
    ("PLAT", "20", "10^9/L", "", ""),
    ("WBC", "5.1", "10^9/L", "3.5", "9.5"),
    ("HGB", "121", "g/L", "115", "150"),
    ("ALT", "30", "U/L", "7", "40"),
    ("AST", "25", "U/L", "13", "35"),
    ("CREAT", "70", "umol/L", "45", "84"),
    ("BILI", "10", "umol/L", "0", "21"),
]
# Screenshots for the README, written only when asked (SCREENSHOT_DIR=docs/screenshots).
SCREENSHOT_DIR = os.environ.get("SCREENSHOT_DIR")


def _gone(element) -> bool:
    """Whether the page holding `element` has been replaced. Selenium's `staleness_of` knows
    only StaleElementReferenceException; mid-navigation chromedriver may instead answer that the
    node "does not belong to the document" (a WebDriverException) — gone as well."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


class Admin:
    """The few gestures a person makes in the admin."""

    def __init__(self, driver, base_url: str):
        self.driver, self.base = driver, base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def login(self, username: str) -> None:
        self.driver.delete_all_cookies()
        self.open("/admin/login/")
        self.type("id_username", username)
        self.type("id_password", PASSWORD + "\n")
        WebDriverWait(self.driver, PAGE_WAIT).until(
            ec.presence_of_element_located((By.ID, "user-tools"))
        )

    def type(self, field_id: str, text: str) -> None:
        element = self.driver.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(text)

    def choose(self, field_id: str, label: str) -> None:
        Select(self.driver.find_element(By.ID, field_id)).select_by_visible_text(label)

    def choose_value(self, field_id: str, value: str) -> None:
        Select(self.driver.find_element(By.ID, field_id)).select_by_value(value)

    def submit(self, name: str | None = None) -> None:
        selector = f"input[type=submit][name={name}]" if name else "input[type=submit].default"
        button = self.driver.find_element(By.CSS_SELECTOR, f"#content-main {selector}")
        button.click()
        WebDriverWait(self.driver, PAGE_WAIT).until(lambda _driver: _gone(button))
        # The old page is gone; wait for the answer to be loaded before reading it.
        WebDriverWait(self.driver, PAGE_WAIT).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete"
            and driver.find_elements(By.ID, "content")
        )

    def errors(self) -> list[str]:
        found = self.driver.find_elements(By.CSS_SELECTOR, ".errorlist li, p.errornote")
        return [e.text for e in found]

    def success(self) -> str:
        return " ".join(e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".messagelist"))

    def text(self) -> str:
        return self.driver.find_element(By.ID, "content").text

    def screenshot(self, name: str) -> None:
        if SCREENSHOT_DIR:
            Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
            self.driver.set_window_size(1400, 1000)
            height = self.driver.execute_script("return document.body.scrollHeight")
            self.driver.set_window_size(1400, min(height, 4000))
            self.driver.save_screenshot(str(Path(SCREENSHOT_DIR) / f"{name}.png"))
            self.driver.set_window_size(1400, 1000)


@pytest.fixture
def course_setup(db):
    # A transactional test starts from a flushed database: load the protocol and the people.
    load_protocol(STUDY)
    study = Study.objects.get(registry_id=STUDY)
    grant_access(username="cora", role="coordinator", registry_id=STUDY, site_codes=["PKUPH"],
                 password=PASSWORD)  # fmt: skip
    grant_access(username="ivy", role="investigator", registry_id=STUDY, site_codes=[],
                 password=PASSWORD)  # fmt: skip
    manager, _ = grant_access(username="dana", role="data_manager", registry_id=STUDY,
                              site_codes=[], password=PASSWORD)  # fmt: skip
    allocation_list_generate(actor=manager.user, study=study, seed=7, slots_per_stratum=10)
    from django.core.management import call_command

    call_command("import_ctcae", verbosity=0)  # the shipped NCI dictionary (837 terms)
    return study


def test_coordinator_course(driver, live_server, course_setup):
    study = course_setup
    today = timezone.localdate()
    admin = Admin(driver, live_server.url)

    # --- The coordinator screens a new patient; bad input first -----------------------------
    admin.login("cora")
    admin.open("/admin/patients/patient/add/")
    site_choices = [o.text for o in Select(driver.find_element(By.ID, "id_site")).options]
    assert site_choices[1:] == [option for option in site_choices[1:] if "PKUPH" in option]
    assert not driver.find_elements(By.ID, "id_reason_for_change")  # a new record: no reason
    admin.choose_value("id_study", str(study.pk))
    admin.choose_value("id_site", str(study.sites.get(code="PKUPH").pk))
    admin.choose_value("id_sex", "F")
    admin.type("id_birth_date", "1980-02-30")
    admin.type("id_height_cm", "165")
    admin.type("id_screened_on", today.isoformat())
    admin.submit("_save")
    # Every error at once: the date's format and the missing weight.
    assert admin.errors() == [
        "Please correct the errors below.", "Enter a valid date.", "This field is required."
    ]  # fmt: skip
    admin.type("id_birth_date", "1980-05-17")
    admin.type("id_weight_kg", "60")
    admin.submit("_save")
    assert "was added successfully" in admin.success(), admin.errors()
    patient = Patient.objects.get(study=study)
    assert (patient.status, patient.weight_kg) == ("screening", 60)

    # --- Consent: a date in the future is refused, then the right one ------------------------
    admin.open(f"/admin/patients/patient/{patient.pk}/consent/")
    admin.type("id_consented_at", (today + dt.timedelta(days=1)).isoformat())
    admin.type("id_consent_version", "2.0")
    admin.submit()
    assert admin.errors() == ["Must not be in the future."]
    admin.type("id_consented_at", today.isoformat())
    admin.submit()
    assert f"Consent 2.0 of {today.isoformat()} recorded." in admin.success()

    # --- Baseline labs and ECOG, entered one by one ------------------------------------------
    for number, (code, value, unit, lln, uln) in enumerate(BASELINE_PANEL, start=1):
        admin.open(f"/admin/labs/labresult/add/?patient={patient.pk}")
        admin.type("id_source_accession", f"SCR-{number}")
        admin.type("id_collected_at_0", (today - dt.timedelta(days=1)).isoformat())
        admin.type("id_collected_at_1", "08:00:00")
        admin.type("id_test_code", code)
        admin.type("id_value", value)
        admin.type("id_unit", unit)
        admin.type("id_lln", lln)
        admin.type("id_uln", uln)
        admin.submit("_save")
        assert "was added successfully" in admin.success(), (code, admin.errors())
    assert LabResult.objects.filter(patient=patient).count() == len(BASELINE_PANEL)
    admin.open(f"/admin/findings/ecogassessment/add/?patient={patient.pk}")
    admin.type("id_assessed_on", today.isoformat())
    admin.type("id_score", "7")
    admin.submit("_save")
    assert admin.errors(), "an ECOG score of 7 must be refused"
    admin.type("id_score", "1")
    admin.submit("_save")
    assert "was added successfully" in admin.success(), admin.errors()

    # The coordinator evaluates: the investigator-confirmed items stay open.
    admin.open(f"/admin/patients/patient/{patient.pk}/eligibility/")
    admin.submit()
    assert "Eligibility evaluated: incomplete" in admin.success()

    # --- The investigator confirms eligibility -----------------------------------------------
    admin.login("ivy")
    admin.open(f"/admin/patients/patient/{patient.pk}/eligibility/")
    for criterion in study.current_protocol().eligibility_criteria.filter(rule__isnull=True):
        answer = "met" if criterion.kind == "inclusion" else "not_met"
        admin.choose_value(f"id_answers__{criterion.code}", answer)
    admin.submit()
    assert "Eligibility evaluated: eligible." in admin.success(), admin.errors()

    # --- The coordinator randomizes ----------------------------------------------------------
    admin.login("cora")
    admin.open(f"/admin/patients/patient/{patient.pk}/allocate/")
    admin.submit()
    assert "Randomized to" in admin.success(), admin.errors()
    patient.refresh_from_db()
    assert (patient.status, patient.day1) == ("randomized", today)

    # --- A visit: a completed visit needs its date; then recorded ----------------------------
    visit = Visit.objects.filter(patient=patient, window_start__lte=today).order_by("target_date")
    visit = visit.filter(window_end__gte=today).first()
    assert visit is not None, "a visit whose window holds day 1"
    admin.open(f"/admin/visits/visit/{visit.pk}/record/")
    admin.choose_value("id_status", "completed")
    admin.submit()
    assert admin.errors(), "a completed visit without a date must be refused"
    admin.type("id_actual_date", today.isoformat())
    admin.submit()
    assert f"Visit {visit.code} recorded as completed." in admin.success(), admin.errors()

    # --- A lab of that visit, from the casebook's link (patient and visit preselected) -------
    admin.open(f"/admin/patients/patient/{patient.pk}/casebook/")
    driver.find_element(
        By.CSS_SELECTOR, f"#visits a[href*='visit={visit.pk}'][href*=labresult]"
    ).click()
    assert Select(driver.find_element(By.ID, "id_visit")).first_selected_option.get_attribute(
        "value"
    ) == str(visit.pk)
    admin.type("id_source_accession", "V1-PLAT")
    drawn = timezone.localtime() - dt.timedelta(minutes=1)
    admin.type("id_collected_at_0", drawn.date().isoformat())
    admin.type("id_collected_at_1", f"{drawn:%H:%M:%S}")
    admin.type("id_test_code", "PLAT")
    admin.type("id_value", "35")
    admin.type("id_unit", "10^9/L")
    admin.submit("_save")
    assert "was added successfully" in admin.success(), admin.errors()
    platelets = LabResult.objects.get(source_accession="V1-PLAT")

    # --- An adverse event: the term chosen by typing in the dictionary search ----------------
    admin.open(f"/admin/safety/adverseevent/add/?patient={patient.pk}&visit={visit.pk}")
    driver.find_element(By.CSS_SELECTOR, ".field-term .select2-selection").click()
    search = driver.find_element(By.CSS_SELECTOR, ".select2-search__field")
    search.send_keys("Epistaxis")
    WebDriverWait(driver, PAGE_WAIT).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".select2-results"), "Epistaxis")
    )
    search.send_keys(Keys.ENTER)
    admin.type("id_verbatim", "Nosebleed after blowing the nose")
    admin.type("id_onset_date", today.isoformat())
    admin.type("id_grade", "9")
    admin.choose_value("id_outcome", "recovering")
    admin.submit("_save")
    assert admin.errors(), "grade 9 must be refused"
    admin.type("id_grade", "1")
    admin.submit("_save")
    assert "was added successfully" in admin.success(), admin.errors()
    event = AdverseEvent.objects.get(patient=patient)
    assert (event.term.term, event.grade) == ("Epistaxis", 1)

    # --- A correction needs a reason ----------------------------------------------------------
    admin.open(f"/admin/labs/labresult/{platelets.pk}/change/")
    admin.type("id_value", "53")
    admin.submit("_save")
    assert "Give a reason for this change." in admin.errors()
    admin.type("id_value", "53")
    admin.type("id_reason_for_change", "Transcription error: the report says 53")
    admin.submit("_save")
    assert "was changed successfully" in admin.success(), admin.errors()
    platelets.refresh_from_db()
    assert (platelets.value, platelets.version) == (53, 2)

    # --- The casebook and the chart -----------------------------------------------------------
    admin.open(f"/admin/patients/patient/{patient.pk}/casebook/")
    page = admin.text()
    assert "Randomized" in page and "version 2.0 signed " + today.isoformat() in page
    assert "Epistaxis" in page
    assert "Transcription error: the report says 53" in page  # in the combined audit trail
    assert "53 10^9/L" in page and "53.0000" not in page
    admin.screenshot("casebook")
    admin.open(f"/admin/endpoints/patientassessment/chart/{patient.pk}/")
    assert "No platelet counts recorded after day 1." in admin.text()  # randomized today


def test_the_chart_of_a_patient_two_months_in(
    driver, live_server, course_setup, make_patient, place_on_arm, record_lab
):
    """A patient randomized 8 weeks ago with weekly counts (entered through the fixtures, as
    time cannot be made to pass in a browser): the coordinator reads the chart and casebook."""
    day1 = timezone.localdate() - dt.timedelta(days=56)
    patient = make_patient(course_setup, "PKUPH", screened_on=day1 - dt.timedelta(days=5))
    place_on_arm(patient, "RTX", day1=day1, status="on_treatment")
    counts = ["18", "25", "41", "62", "88", "120", "135", "142"]
    for week, count in enumerate(counts):
        record_lab(patient, "PLAT", count, "10^9/L", on=day1 + dt.timedelta(days=7 * week),
                   lln="150", uln="400")  # fmt: skip
    admin = Admin(driver, live_server.url)
    admin.login("cora")
    admin.open(f"/admin/endpoints/patientassessment/chart/{patient.pk}/")
    circles = driver.find_elements(By.CSS_SELECTOR, "#content svg circle")
    assert len(circles) == len(counts) - 1, admin.text()  # the counts after day 1
    admin.screenshot("chart")
    admin.open(f"/admin/patients/patient/{patient.pk}/casebook/")
    assert "142 10^9/L" in admin.text()
    admin.screenshot("casebook-with-course")
