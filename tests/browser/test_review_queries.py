"""Issue 14 in a real (headless) Chromium: a monitor raises a query from the casebook on a lab
result's value, the coordinator answers it, the monitor closes it; the admin index counts the
open query per site. Screenshot for the README: the answered query (SCREENSHOT_DIR)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By

from ecrf.audit import save_audited
from patients.services import patient_create
from tests.browser.test_coordinator_course import PASSWORD, STUDY, Admin
from trials.access_grants import grant_access
from trials.models import Study
from trials.services import load_protocol
from visits.labs.models import LabResult
from visits.review.models import Query

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lab_result(db):
    load_protocol(STUDY)
    study = Study.objects.get(registry_id=STUDY)
    coordinator, _ = grant_access(username="cora", role="coordinator", registry_id=STUDY,
                                  site_codes=["PKUPH"], password=PASSWORD)  # fmt: skip
    grant_access(username="mona", role="monitor", registry_id=STUDY, site_codes=["PKUPH"],
                 password=PASSWORD)  # fmt: skip
    patient = patient_create(
        actor=coordinator.user, study=study, site=study.sites.get(code="PKUPH"), sex="F",
        birth_date=dt.date(1980, 5, 17), height_cm=Decimal("165"), weight_kg=Decimal("60"),
        screened_on=dt.date(2025, 1, 6),
    )  # fmt: skip
    result = LabResult(
        patient=patient, collected_at=dt.datetime(2025, 1, 5, 8, tzinfo=dt.UTC), test_code="PLAT",
        value=Decimal("250"), unit="10^9/L", value_std=Decimal("250"), unit_std="10^9/L",
    )  # fmt: skip
    return save_audited(result, actor=coordinator.user, reason="Lab result recorded")


def test_a_query_raised_answered_and_closed_in_the_admin(driver, live_server, lab_result):
    admin = Admin(driver, live_server.url)
    admin.login("mona")
    admin.open(f"/admin/patients/patient/{lab_result.patient_id}/casebook/")
    driver.find_element(By.CSS_SELECTOR, "#labs a.raise-query").click()
    assert driver.find_element(By.ID, "id_resource").get_attribute("value") == "lab-results"
    assert driver.find_element(By.ID, "id_record_id").get_attribute("value") == str(lab_result.pk)
    admin.type("id_field", "colour")
    admin.type("id_text", "Platelets 250 at screening for ITP: please check the source.")
    admin.submit()
    assert any("no field 'colour'" in e for e in admin.errors())
    admin.type("id_field", "value")
    admin.submit()
    query = Query.objects.get()
    assert (query.status, query.field, query.raised_by.username) == ("open", "value", "mona")

    admin.open("/admin/")
    cells = driver.find_elements(By.CSS_SELECTOR, "#open-queries td")
    assert [cell.text for cell in cells] == ["NCT03304288", "PKUPH", "1", "0"]

    admin.login("cora")
    admin.open(f"/admin/patients/patient/{lab_result.patient_id}/casebook/")
    in_casebook = driver.find_element(By.CSS_SELECTOR, "#labs .record-query").text
    assert in_casebook == (
        f"Query {query.pk} (open, value): Platelets 250 at screening for ITP: "
        "please check the source."
    )
    admin.open(f"/admin/review/query/{query.pk}/close/")  # a coordinator cannot close
    admin.type("id_reason", "Done")
    admin.submit()
    assert admin.errors() == ["Your role does not allow this (manage_queries)."]
    query.refresh_from_db()
    assert query.status == "open"
    admin.open(f"/admin/review/query/{query.pk}/answer/")
    admin.type("id_text", "Source says 25; corrected the value.")
    admin.submit()
    query.refresh_from_db()
    assert (query.status, query.answered_by.username) == ("answered", "cora")
    admin.screenshot("query")

    admin.login("mona")
    admin.open(f"/admin/review/query/{query.pk}/close/")
    admin.type("id_reason", "Corrected against the source.")
    admin.submit()
    query.refresh_from_db()
    assert (query.status, query.close_reason) == ("closed", "Corrected against the source.")
