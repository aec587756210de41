"""The codebook (data dictionary) of a protocol version: every exported field with its type,
unit and allowed codes, and the version's endpoint definitions."""

from __future__ import annotations

from collections.abc import Iterator

from ecrf.domain.units import LAB_TESTS
from trials.models import ProtocolVersion
from visits.exports.odm import data_type
from visits.exports.tables import TABLES, choice_labels, text

# Units carried by a field's name (the project's naming convention: `weight_kg`, `dose_mg`...).
UNIT_SUFFIXES = (
    ("_mmhg", "mmHg"),
    ("_bpm", "beats/min"),
    ("_kg", "kg"),
    ("_cm", "cm"),
    ("_m2", "m2"),
    ("_mg", "mg"),
    ("_ng_ml", "ng/mL"),
    ("temperature_c", "C"),
)
# Fields whose unit is another column of the same row.
UNIT_COLUMNS = {
    ("labs", "value"): "see unit",
    ("labs", "lln"): "see unit",
    ("labs", "uln"): "see unit",
    ("labs", "value_std"): "see unit_std",
    ("labs", "lln_std"): "see unit_std",
    ("labs", "uln_std"): "see unit_std",
}

HEADER = [
    "protocol_version",
    "section",
    "table",
    "field",
    "type",
    "unit",
    "allowed_codes",
    "required",
    "description",
]


def unit_of(table_name: str, field_name: str) -> str:
    if (table_name, field_name) in UNIT_COLUMNS:
        return UNIT_COLUMNS[(table_name, field_name)]
    for suffix, unit in UNIT_SUFFIXES:
        if field_name.endswith(suffix):
            return unit
    return ""


def allowed_codes(table_name: str, field, version: ProtocolVersion) -> str:
    labels = choice_labels(field)
    if labels is not None:
        return " | ".join(f"{code}={label}" for code, label in labels.items() if code != "")
    if table_name == "labs" and field.name == "test_code":
        return " | ".join(f"{code}={test.name}" for code, test in sorted(LAB_TESTS.items()))
    if table_name == "patients" and field.name == "diagnosis":
        return " | ".join(f"{d['code']}={d['name']}" for d in version.diagnoses)
    if table_name == "visits" and field.name == "code":
        codes = [d.code for d in version.visit_definitions.all()]
        return " | ".join([*codes, "U<n> (unscheduled)"])
    return ""


def codebook_rows(version: ProtocolVersion) -> Iterator[list[str]]:
    label = str(version.number)
    for table in TABLES:
        for field in table.fields:
            required = not (field.null or field.blank or field.has_default())
            if (table.name, field.name) == ("patients", "diagnosis"):
                required = bool(version.diagnoses)  # required where the protocol declares them
            yield [
                label,
                "field",
                table.name,
                table.export_name(field),
                data_type(field),
                unit_of(table.name, field.name),
                allowed_codes(table.name, field, version),
                "yes" if required else "no",
                str(field.help_text or field.verbose_name),
            ]
    for endpoint in version.endpoint_definitions.all():
        yield [
            label,
            "endpoint",
            "",
            endpoint.code,
            endpoint.kind,
            "",
            "",
            "primary" if endpoint.is_primary else "secondary",
            " — ".join(
                part
                for part in (
                    endpoint.name,
                    f"day {endpoint.time_point_day}" if endpoint.time_point_day is not None else "",
                    text(endpoint.parameters),
                )
                if part
            ),
        ]


def codebook(version: ProtocolVersion) -> Iterator[list[str]]:
    yield HEADER
    yield from codebook_rows(version)
