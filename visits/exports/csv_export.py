"""The CSV export: one file per record table, one row per record, voided records flagged.

Columns: the subject id and site code, then every field under its API name (a foreign key as the
id it points at; a part of a nested object or of a list of codes in the API answer as
`<api field>.<key>`, e.g. `ctcae.grade`, `seriousness_criteria.death`); a coded field is followed
by `<field>_label` with its label — the patient's diagnosis too, whose codes and labels come from
the study's protocol file rather than the model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from trials.selectors import diagnosis_names
from visits.exports.streams import rows_of
from visits.exports.tables import TABLES, RecordTable, choice_labels, field_value, study_rows, text

# The domains of the CSV export (every record table of a patient's course).
CSV_TABLES = TABLES
# Fields coded per study (the protocol file declares the codes): labels by study id.
STUDY_CODED_FIELDS = {("patients", "diagnosis"): diagnosis_names}


def _labels(table: RecordTable, field, study_id: int | None) -> dict | None:
    per_study = STUDY_CODED_FIELDS.get((table.name, field.name))
    if per_study is not None:
        return per_study(study_id) if study_id is not None else {}
    return choice_labels(field)


def csv_header(table: RecordTable) -> list[str]:
    names = {field.name for field in table.fields}
    header = [name for name in ("subject_id", "site_code") if name not in names]
    for field in table.fields:
        name = table.export_name(field)
        header.append(name)
        if _labels(table, field, None) is not None:
            header.append(f"{name}_label")
    return header


def csv_rows(
    table: RecordTable, study_id: int, site_ids: list[int] | None, as_of: dt.datetime | None
) -> Iterator[list[str]]:
    yield csv_header(table)
    names = {field.name for field in table.fields}
    columns = [(field, _labels(table, field, study_id)) for field in table.fields]
    for row in rows_of(study_rows(table, study_id, site_ids, as_of)):
        cells = []
        if "subject_id" not in names:
            cells.append(row.x_subject_id)
        cells.append(row.x_site_code)
        for field, labels in columns:
            value = field_value(row, field)
            cells.append(text(value))
            if labels is not None:
                cells.append(labels.get(str(value), "") if value not in (None, "") else "")
        yield cells


def csv_files(study_id: int, site_ids: list[int] | None, as_of: dt.datetime | None):
    for table in CSV_TABLES:
        yield f"{table.name}.csv", csv_rows(table, study_id, site_ids, as_of)
