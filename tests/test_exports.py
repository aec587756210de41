"""Study exports (CSV, SDTM-shaped, ODM 1.3.2) checked row by row against the database, for every
shipped study, through the API and the command; `as_of` reproduces a past cut exactly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from ecrf.audit import save_audited, update_audited, void_audited
from patients.models import Patient
from tests.diagnosis_support import screening_diagnosis
from trials.models import Study
from visits.dosing.models import DoseRecord
from visits.endpoints.models import PatientAssessment
from visits.exports.models import ExportLog
from visits.exports.tables import TABLES, text
from visits.findings.models import BleedingAssessment, RescueTherapy, VitalSigns
from visits.labs.models import LabResult
from visits.safety.models import AdverseEvent, AdverseEventDrugAssessment, CtcaeTerm

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
REGISTRY_IDS = ["NCT03304288", "NCT03918265", "NCT05471050", "NCT05694130"]


def _actor():
    return get_user_model().objects.get_or_create(
        username="fixture-admin", defaults={"is_superuser": True}
    )[0]


def populate(study: Study, make_patient, record_lab) -> list[Patient]:
    """Two patients at the first site (one on the first arm with a course), one voided lab."""
    actor = _actor()
    site = study.sites.order_by("code").first()
    arm = study.arms.order_by("code").first()
    first = make_patient(study, site.code, actor=actor, **screening_diagnosis(study))
    second = make_patient(study, site.code, actor=actor, sex="M", **screening_diagnosis(study))
    first.arm, first.day1, first.status = arm, dt.date(2025, 1, 10), "randomized"
    save_audited(first, actor=actor, reason="Allocated (test)")
    record_lab(first, "PLAT", "18", "10^9/L", on=dt.date(2025, 1, 8), lln="125", uln="350")
    record_lab(first, "PLAT", "64", "10^9/L", on=dt.date(2025, 2, 7), lln="125", uln="350")
    wrong = record_lab(second, "HGB", "9.8", "g/dL", on=dt.date(2025, 1, 8))
    void_audited(wrong, actor=actor, reason="Entered for the wrong patient", expected_version=1)
    event = save_audited(
        AdverseEvent(
            patient=first,
            term=CtcaeTerm.objects.get(ctcae_version="5.0", term="Bruising"),
            verbatim="Bruises on both shins",
            onset_date=dt.date(2025, 1, 20),
            grade=2,
            outcome="recovered",
            resolution_date=dt.date(2025, 1, 30),
        ),
        actor=actor,
        reason="AE (test)",
    )
    regimen = arm.regimens.order_by("order").first()
    if regimen is not None:
        save_audited(
            AdverseEventDrugAssessment(
                adverse_event=event,
                drug=regimen.drug,
                causality="possible",
                action_taken="dose_not_changed",
            ),
            actor=actor,
            reason="Causality (test)",
        )
        save_audited(
            DoseRecord(
                patient=first,
                regimen=regimen,
                drug=regimen.drug,
                start_date=dt.date(2025, 1, 10),
                end_date=dt.date(2025, 1, 31),
                dose_mg=Decimal("1.5"),
                frequency="bid",
                daily_mg=Decimal("3.0"),
            ),
            actor=actor,
            reason="Dose (test)",
        )
    save_audited(
        BleedingAssessment(patient=first, assessed_at=dt.date(2025, 1, 20), who_grade=1),
        actor=actor,
        reason="Bleeding (test)",
    )
    save_audited(
        RescueTherapy(
            patient=first,
            started_at=dt.date(2025, 1, 25),
            therapy="IVIG",
            itp_directed=True,
            kind="rescue",
        ),
        actor=actor,
        reason="Rescue (test)",
    )
    save_audited(
        VitalSigns(
            patient=first, measured_on=dt.date(2025, 1, 10), systolic_mmhg=120, weight_kg="61.5"
        ),
        actor=actor,
        reason="Vitals (test)",
    )
    return [first, second]


def _zip(response) -> dict[str, list[dict]]:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {
        name: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
        for name in archive.namelist()
    }


def _cell(value) -> str:
    return text(value)


FILE_STAMPS = ("FileOID", "CreationDateTime", "AsOfDateTime")


def _odm_document(response) -> str:
    """The ODM document in canonical form, without the stamps that name the file itself."""
    root = ET.fromstring(b"".join(response.streaming_content))
    for stamp in FILE_STAMPS:
        root.attrib.pop(stamp, None)
    return ET.canonicalize(ET.tostring(root, encoding="unicode"))


@pytest.fixture
def data_manager(make_user):
    def make(registry_id: str):
        return make_user(f"dm-{registry_id.lower()}", "data_manager", registry_id)

    return make


@pytest.mark.parametrize("registry_id", REGISTRY_IDS)
def test_csv_export_matches_every_record_of_every_table(
    registry_id, make_patient, record_lab, data_manager, client_for
):
    study = Study.objects.get(registry_id=registry_id)
    populate(study, make_patient, record_lab)
    user = data_manager(registry_id)

    response = client_for(user).get(f"/api/studies/{study.pk}/export/?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    files = _zip(response)
    assert sorted(files) == sorted(f"{t.name}.csv" for t in TABLES)
    for table in TABLES:
        prefix = f"{table.patient_path}__" if table.patient_path else ""
        records = list(
            table.model.objects.filter(**{f"{prefix}study": study}).order_by(
                f"{prefix}subject_id", "id"
            )
        )
        rows = files[f"{table.name}.csv"]
        assert [int(r["id"]) for r in rows] == [r.pk for r in records], table.name
        for row, record in zip(rows, records, strict=True):
            for field in table.fields:
                name = table.export_name(field)
                assert row[name] == _cell(getattr(record, field.attname)), (table.name, name)
                if field.choices and getattr(record, field.attname):
                    assert row[f"{name}_label"] == str(
                        getattr(record, f"get_{field.name}_display")()
                    )
    labs = files["labs.csv"]
    assert [(r["test_code"], r["value"], r["is_voided"]) for r in labs] == [
        ("PLAT", "18", "false"),
        ("PLAT", "64", "false"),
        ("HGB", "9.8", "true"),
    ]
    assert labs[0]["indicator"] == "" or labs[0]["indicator_label"] != ""
    log = ExportLog.objects.get(study=study)
    assert (log.user, log.format, log.channel, log.scope) == (user, "csv", "api", "all sites")


@pytest.mark.parametrize("registry_id", REGISTRY_IDS)
def test_sdtm_export_maps_the_records(
    registry_id, make_patient, record_lab, data_manager, client_for
):
    study = Study.objects.get(registry_id=registry_id)
    first, second = populate(study, make_patient, record_lab)
    arm = first.arm

    response = client_for(data_manager(registry_id)).get(
        f"/api/studies/{study.pk}/export/?format=sdtm"
    )

    files = _zip(response)
    datasets = ["ae.csv", "dm.csv", "ds.csv", "ex.csv", "lb.csv", "rs.csv", "vs.csv"]
    if study.current_protocol().diagnoses:  # the diagnosis screened with (NCT03918265)
        datasets = sorted([*datasets, "mh.csv"])
    assert sorted(files) == datasets
    usubjid = f"{registry_id}-{first.subject_id}"
    dm = {r["USUBJID"]: r for r in files["dm.csv"]}
    assert dm[usubjid]["ARMCD"] == arm.code
    assert dm[usubjid]["RFSTDTC"] == "2025-01-10"
    assert dm[usubjid]["SEX"] == "F"
    assert dm[usubjid]["AGE"] == "44"
    assert dm[f"{registry_id}-{second.subject_id}"]["ARMCD"] == "NOTASSGN"
    lb = files["lb.csv"]
    # The voided haemoglobin is not in SDTM; platelets with their study days.
    assert [
        (r["USUBJID"], r["LBSEQ"], r["LBTESTCD"], r["LBORRES"], r["LBSTRESN"], r["LBDY"])
        for r in lb
    ] == [(usubjid, "1", "PLAT", "18", "18", "-2"), (usubjid, "2", "PLAT", "64", "64", "29")]
    assert [(r["LBORNRLO"], r["LBORNRHI"], r["LBSTRESU"], r["LBNRIND"]) for r in lb] == [
        ("125", "350", "10^9/L", LabResult.objects.get(patient=first, value=18).indicator),
        ("125", "350", "10^9/L", LabResult.objects.get(patient=first, value=64).indicator),
    ]
    ae = files["ae.csv"]
    assert [(r["AEDECOD"], r["AETOXGR"], r["AESER"], r["AESTDY"], r["AEOUT"]) for r in ae] == [
        ("Bruising", "2", "N", "11", "RECOVERED/RESOLVED")
    ]
    has_regimen = arm.regimens.exists()
    assert ae[0]["AEREL"] == ("POSSIBLY RELATED" if has_regimen else "")
    ex = files["ex.csv"]
    expected_ex = (
        [(arm.regimens.order_by("order").first().drug.upper(), "1.5", "mg", "BID", "1", "22")]
        if has_regimen
        else []
    )
    assert [
        (r["EXTRT"], r["EXDOSE"], r["EXDOSU"], r["EXDOSFRQ"], r["EXSTDY"], r["EXENDY"]) for r in ex
    ] == expected_ex
    vs = files["vs.csv"]
    assert [(r["VSTESTCD"], r["VSORRES"], r["VSORRESU"], r["VSDY"]) for r in vs] == [
        ("SYSBP", "120", "mmHg", "1"),
        ("WEIGHT", "61.5", "kg", "1"),
    ]
    ds = files["ds.csv"]
    term = "RANDOMIZED" if study.is_randomized else "ENROLLED"
    assert [(r["USUBJID"], r["DSDECOD"], r["DSSTDTC"]) for r in ds] == [
        (usubjid, term, "2025-01-10")
    ]
    # RS: the stored assessment (under the current protocol version: NCT05471050's amendment 2)
    # row by row — each assessed visit's overall response, then each endpoint's result.
    stored = PatientAssessment.objects.get(patient=first)
    current = study.current_protocol()
    assert stored.protocol_version == current
    assert sorted(stored.endpoints) == sorted(
        current.endpoint_definitions.values_list("code", flat=True)
    )
    assert stored.endpoints, "the allocated patient has endpoint results"
    expected_rs = [
        ("OVRLRESP", "VISIT RESPONSE", v["response"] or "", v["visit"] or "", v["date"])
        for v in stored.visits
    ] + [
        (
            code.upper(),
            "ENDPOINT",
            ("Y" if stored.endpoints[code]["met"] else "N")
            if stored.endpoints[code]["met"] is not None
            else _cell(stored.endpoints[code]["value"]),
            "",
            stored.evaluated_on.isoformat(),
        )
        for code in sorted(stored.endpoints)
        # An endpoint of another diagnosis than the patient's has no result, hence no RS record.
        if stored.endpoints[code]["applicable"] is not False
    ]
    assert [
        (r["RSTESTCD"], r["RSCAT"], r["RSORRES"], r["VISIT"], r["RSDTC"]) for r in files["rs.csv"]
    ] == expected_rs
    assert [r["RSSEQ"] for r in files["rs.csv"]] == [str(n) for n in range(1, len(expected_rs) + 1)]
    assert {r["USUBJID"] for r in files["rs.csv"]} == {usubjid}


def _odm_items(root) -> dict[tuple[str, str, str], tuple]:
    """(subject, form, record id) → {item oid: (value or None, user, location, time, reason)}."""
    out = {}
    for subject in root.iter(f"{ODM}SubjectData"):
        for form in subject.iter(f"{ODM}FormData"):
            for group in form.iter(f"{ODM}ItemGroupData"):
                items = {}
                for item in group.iter(f"{ODM}ItemData"):
                    audit = item.find(f"{ODM}AuditRecord")
                    reason = audit.find(f"{ODM}ReasonForChange")
                    items[item.get("ItemOID")] = (
                        item.get("Value"),
                        audit.find(f"{ODM}UserRef").get("UserOID"),
                        audit.find(f"{ODM}LocationRef").get("LocationOID"),
                        audit.find(f"{ODM}DateTimeStamp").text,
                        None if reason is None else reason.text,
                    )
                key = (
                    subject.get("SubjectKey"),
                    form.get("FormOID"),
                    group.get("ItemGroupRepeatKey"),
                )
                out[key] = items
    return out


@pytest.mark.parametrize("registry_id", REGISTRY_IDS)
def test_odm_export_is_namespaced_and_matches_the_database_and_its_audit_trail(
    registry_id, make_patient, record_lab, data_manager, client_for
):
    study = Study.objects.get(registry_id=registry_id)
    first, _ = populate(study, make_patient, record_lab)
    lab = LabResult.objects.get(patient=first, value=64)
    corrected = update_audited(
        lab,
        changes={"unit": "10^9/L", "value": Decimal("46"), "value_std": Decimal("46")},
        actor=_actor(),
        reason="Transcription error",
        expected_version=1,
    )

    response = client_for(data_manager(registry_id)).get(
        f"/api/studies/{study.pk}/export/?format=odm"
    )

    assert response["Content-Type"] == "application/xml"
    root = ET.fromstring(b"".join(response.streaming_content))
    assert root.tag == f"{ODM}ODM"
    assert root.get("ODMVersion") == "1.3.2"
    items = _odm_items(root)
    site = f"LOC.{first.site.code}"
    for table in TABLES:
        prefix = f"{table.patient_path}__" if table.patient_path else ""
        for record in table.model.objects.filter(**{f"{prefix}study": study}):
            if table.name == "ae_drug_assessments":
                subject = record.adverse_event.patient
            else:
                subject = Patient.objects.get(pk=getattr(record, "patient_id", None) or record.pk)
            key = (subject.subject_id, f"F.{table.name.upper()}", str(record.pk))
            group = items.pop(key)
            created = record.history.order_by("history_date", "history_id").first()
            for field in table.fields:
                value = getattr(record, field.attname)
                oid = f"IT.{table.name.upper()}.{table.export_name(field).upper()}"
                if value in (None, ""):
                    assert oid not in group or group[oid][0] is None
                    continue
                assert group[oid][0] == text(value), (table.name, field.name)
                assert group[oid][2] == site
            # The id was set when the record was created: its audit record is the creation.
            assert group[f"IT.{table.name.upper()}.ID"][1:] == (
                "USR.fixture-admin",
                site,
                text(created.history_date),
                created.history_change_reason,
            )
    assert items == {}
    value_item = _odm_items(root)[(first.subject_id, "F.LABS", str(lab.pk))]["IT.LABS.VALUE"]
    last = corrected.history.order_by("-history_date").first()
    assert value_item == (
        "46",
        "USR.fixture-admin",
        site,
        text(last.history_date),
        "Transcription error",
    )
    unchanged = _odm_items(root)[(first.subject_id, "F.LABS", str(lab.pk))]["IT.LABS.TEST_CODE"]
    assert unchanged[4] == "Lab result recorded"


def test_as_of_reproduces_the_cut_before_a_later_correction(
    study, make_patient, record_lab, data_manager, client_for
):
    first, _ = populate(study, make_patient, record_lab)
    client = client_for(data_manager(study.registry_id))
    before = {
        fmt: client.get(f"/api/studies/{study.pk}/export/?format={fmt}") for fmt in ("csv", "sdtm")
    }
    before = {fmt: _zip(r) for fmt, r in before.items()}
    odm_before = _odm_document(client.get(f"/api/studies/{study.pk}/export/?format=odm"))
    cut = timezone.now()
    lab = LabResult.objects.get(patient=first, value=64)
    update_audited(
        lab,
        changes={"value": Decimal("46"), "value_std": Decimal("46")},
        actor=_actor(),
        reason="Transcription error",
        expected_version=1,
    )
    record_lab(first, "PLAT", "120", "10^9/L", on=dt.date(2025, 3, 7))
    later_patient = make_patient(study, first.site.code, **screening_diagnosis(study))

    as_of = cut.isoformat().replace("+00:00", "Z")
    for fmt in ("csv", "sdtm"):
        response = client.get(f"/api/studies/{study.pk}/export/", {"format": fmt, "as_of": as_of})
        assert _zip(response) == before[fmt], fmt
    now = _zip(client.get(f"/api/studies/{study.pk}/export/?format=csv"))
    assert [r["value"] for r in now["labs.csv"]] == ["18", "46", "120", "9.8"]
    assert later_patient.subject_id in {r["subject_id"] for r in now["patients.csv"]}
    odm = ET.fromstring(
        b"".join(
            client.get(
                f"/api/studies/{study.pk}/export/", {"format": "odm", "as_of": as_of}
            ).streaming_content
        )
    )
    items = _odm_items(odm)
    assert items[(first.subject_id, "F.LABS", str(lab.pk))]["IT.LABS.VALUE"][0] == "64"
    assert later_patient.subject_id not in {k[0] for k in items}
    # The whole document, audit records included, is the one exported before the change; only
    # the file's own stamps differ (its id, creation time and the cut it names).
    odm_cut = _odm_document(
        client.get(f"/api/studies/{study.pk}/export/", {"format": "odm", "as_of": as_of})
    )
    assert odm_cut == odm_before


def _written(path, export_format: str):
    if export_format == "odm":
        root = ET.parse(path).getroot()
        for stamp in FILE_STAMPS:
            root.attrib.pop(stamp, None)
        return ET.canonicalize(ET.tostring(root, encoding="unicode"))
    archive = zipfile.ZipFile(path)
    return {
        name: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
        for name in archive.namelist()
    }


@pytest.mark.parametrize("registry_id", REGISTRY_IDS)
def test_command_writes_what_the_api_answers_in_every_format_and_logs_it(
    registry_id, make_patient, record_lab, data_manager, client_for, tmp_path
):
    study = Study.objects.get(registry_id=registry_id)
    populate(study, make_patient, record_lab)
    client = client_for(data_manager(registry_id))

    for export_format in ("csv", "sdtm", "odm"):
        response = client.get(f"/api/studies/{study.pk}/export/?format={export_format}")
        via_api = _odm_document(response) if export_format == "odm" else _zip(response)
        out = tmp_path / export_format

        call_command("export_study", registry_id, "--format", export_format, "--out", str(out))

        [written] = list(out.iterdir())
        suffix = "xml" if export_format == "odm" else "zip"
        assert written.name == f"{registry_id}_{export_format}.{suffix}"
        assert _written(written, export_format) == via_api, export_format
    assert list(ExportLog.objects.order_by("id").values_list("channel", "format", "user")) == [
        ("api", "csv", _user_pk(registry_id)),
        ("command", "csv", None),
        ("api", "sdtm", _user_pk(registry_id)),
        ("command", "sdtm", None),
        ("api", "odm", _user_pk(registry_id)),
        ("command", "odm", None),
    ]


def _user_pk(registry_id: str) -> int:
    return get_user_model().objects.get(username=f"dm-{registry_id.lower()}").pk


def test_command_cuts_as_of_a_date_and_names_the_cut(
    study, make_patient, record_lab, data_manager, client_for, tmp_path
):
    populate(study, make_patient, record_lab)
    via_api = _zip(
        client_for(data_manager(study.registry_id)).get(
            f"/api/studies/{study.pk}/export/", {"format": "csv", "as_of": "2000-01-01"}
        )
    )

    call_command(
        "export_study",
        study.registry_id,
        "--format",
        "csv",
        "--as-of",
        "2000-01-01",
        "--out",
        str(tmp_path),
    )

    [written] = list(tmp_path.iterdir())
    assert written.name == f"{study.registry_id}_csv_as_of_20000101T235959Z.zip"
    files = _written(written, "csv")
    assert files == via_api
    assert all(rows == [] for rows in files.values())
    log = ExportLog.objects.get(channel="command")
    assert log.as_of == dt.datetime(2000, 1, 1, 23, 59, 59, 999999, tzinfo=dt.UTC)


def test_export_is_scoped_to_the_users_sites_and_roles(
    multisite_study, make_patient, record_lab, make_user, client_for
):
    sites = list(multisite_study.sites.order_by("code")[:2])
    mine = make_patient(multisite_study, sites[0].code)
    theirs = make_patient(multisite_study, sites[1].code)
    monitor = make_user("site-monitor", "monitor", multisite_study.registry_id, [sites[0].code])
    coordinator = make_user("coord", "coordinator", multisite_study.registry_id)

    files = _zip(client_for(monitor).get(f"/api/studies/{multisite_study.pk}/export/?format=csv"))
    refused = client_for(coordinator).get(f"/api/studies/{multisite_study.pk}/export/?format=csv")
    bad = client_for(monitor).get(f"/api/studies/{multisite_study.pk}/export/?format=xls")

    assert [r["subject_id"] for r in files["patients.csv"]] == [mine.subject_id]
    assert theirs.subject_id not in str(files)
    assert refused.status_code == 403
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "format"
    assert ExportLog.objects.get().scope == sites[0].code


def test_codebook_lists_fields_with_units_and_codes_and_the_endpoints(study, make_user, client_for):
    user = make_user("stat", "statistician", study.registry_id)
    version = study.protocol_versions.get(number=1)

    response = client_for(user).get(f"/api/studies/{study.pk}/codebook/?protocol_version=1")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_field = {(r["table"], r["field"]): r for r in rows if r["section"] == "field"}
    assert by_field[("patients", "weight_kg")]["unit"] == "kg"
    assert by_field[("patients", "weight_kg")]["type"] == "float"
    assert by_field[("patients", "sex")]["allowed_codes"] == "F=Female | M=Male"
    assert "PLAT=Platelets" in by_field[("labs", "test_code")]["allowed_codes"]
    endpoints = [r["field"] for r in rows if r["section"] == "endpoint"]
    assert endpoints == [e.code for e in version.endpoint_definitions.all()]
    # The amendment (version 2) restates the primary endpoint: its codebook shows its own.
    amended = study.protocol_versions.get(number=2)
    current = client_for(user).get(f"/api/studies/{study.pk}/codebook/")
    assert current["Content-Disposition"].endswith('_codebook_v2.csv"')
    rows = list(csv.DictReader(io.StringIO(b"".join(current.streaming_content).decode())))
    assert [
        (r["field"], r["type"], r["required"], r["protocol_version"])
        for r in rows
        if r["section"] == "endpoint"
    ] == [
        (e.code, e.kind, "primary" if e.is_primary else "secondary", "2")
        for e in amended.endpoint_definitions.all()
    ]


def test_the_parametrized_studies_are_every_shipped_study(db):
    assert sorted(Study.objects.values_list("registry_id", flat=True)) == REGISTRY_IDS


def test_admin_shows_the_codebook_and_the_export_log(study, make_user, client_for):
    from django.test import Client

    monitor = make_user("admin-monitor", "monitor", study.registry_id)
    client_for(monitor).get(f"/api/studies/{study.pk}/export/?format=odm")
    version = study.protocol_versions.get(number=2)
    browser = Client()
    browser.force_login(monitor)

    log_page = browser.get("/admin/exports/exportlog/")
    page = browser.get(f"/admin/exports/exportlog/codebook/{version.pk}/")

    assert log_page.status_code == 200
    assert f"{study.registry_id} v2" in log_page.text
    assert "admin-monitor" in log_page.text
    assert page.status_code == 200
    assert "<td>weight_kg</td>" in page.text
    for endpoint in version.endpoint_definitions.all():
        assert f"<code>{endpoint.code}</code>" in page.text


def test_the_amended_trial_exports_each_patients_version_and_both_codebooks(
    study, make_patient, data_manager, client_for
):
    # NCT05471050, the fifth trial: its amendment 2 restates the primary endpoint.
    v1, v2 = study.protocol_versions.get(number=1), study.protocol_versions.get(number=2)
    site = study.sites.order_by("code").first()
    early = make_patient(study, site.code, screened_on=dt.date(2023, 1, 9))
    early.protocol_version = v1
    early.version += 1
    save_audited(early, actor=_actor(), reason="Screened under version 1 (back-entered, test)")
    late = make_patient(study, site.code)
    client = client_for(data_manager(study.registry_id))

    files = _zip(client.get(f"/api/studies/{study.pk}/export/?format=csv"))
    odm = _odm_items(
        ET.fromstring(
            b"".join(client.get(f"/api/studies/{study.pk}/export/?format=odm").streaming_content)
        )
    )
    codebooks = {
        number: list(
            csv.DictReader(
                io.StringIO(
                    b"".join(
                        client.get(
                            f"/api/studies/{study.pk}/codebook/", {"protocol_version": number}
                        ).streaming_content
                    ).decode()
                )
            )
        )
        for number in (1, 2)
    }

    assert [(r["subject_id"], r["protocol_version"]) for r in files["patients.csv"]] == [
        (early.subject_id, str(v1.pk)),
        (late.subject_id, str(v2.pk)),
    ]
    version_items = {
        key[0]: items["IT.PATIENTS.PROTOCOL_VERSION"]
        for key, items in odm.items()
        if key[1] == "F.PATIENTS"
    }
    assert version_items[early.subject_id][0] == str(v1.pk)
    assert version_items[early.subject_id][4] == "Screened under version 1 (back-entered, test)"
    assert version_items[late.subject_id][0] == str(v2.pk)
    endpoints = {
        number: {r["field"]: r["description"] for r in rows if r["section"] == "endpoint"}
        for number, rows in codebooks.items()
    }
    for number, version in ((1, v1), (2, v2)):
        assert sorted(endpoints[number]) == sorted(
            version.endpoint_definitions.values_list("code", flat=True)
        )
        primary = version.endpoint_definitions.get(is_primary=True)
        assert endpoints[number][primary.code].endswith(text(primary.parameters))
    assert endpoints[1]["sustained_response_6m"] != endpoints[2]["sustained_response_6m"]
