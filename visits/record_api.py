"""API building blocks of a patient's clinical records (labs, findings, safety, dosing).

- `PatientRecordViewSet`: a patient's clinical records, every write through the services a
  `RecordWrites` names; `PatientRecordSerializer`, `patient_field`, `visit_field` (and
  `RecordAtVisitCreateSerializer` / `RecordAtVisitUpdateSerializer` for records taken at a visit)
  for its serializers.
"""

from __future__ import annotations

from django.db import models
from rest_framework import serializers

from ecrf.api import AuditedRecordViewSet, ChangeFieldsMixin
from patients.selectors import patient_named_in_request, referenced_record
from visits.models import Visit

# --- A patient's clinical records ----------------------------------------------------------------


class PatientRecordViewSet(AuditedRecordViewSet):
    """Records of one patient each; list with `?patient=<id>`; every write through `writes`.

    A create names the patient by id: one the user may not see is a 400 naming `patient`. Ids of
    the patient's other records (`references`: request field → model) become those records, or
    placeholders the service refuses as "not of this patient".
    """

    study_field = "patient__study"
    site_field = "patient__site"
    filterset_fields = ["patient", "is_voided"]
    references: dict[str, type[models.Model]] = {"visit": Visit}

    def create_record(self, serializer):
        data = dict(serializer.validated_data)
        patient = patient_named_in_request(self.request.user, data.pop("patient"))
        values = self.with_referenced_records(data)
        return self.writes.create_record(self.request.user, patient=patient, **values)

    def update_record(self, instance, changes: dict, *, reason, version):
        changes = self.with_referenced_records(changes)
        return super().update_record(instance, changes, reason=reason, version=version)

    def with_referenced_records(self, data: dict) -> dict:
        return {
            name: referenced_record(self.references[name], value)
            if name in self.references
            else value
            for name, value in data.items()
        }


class PatientRecordSerializer(serializers.ModelSerializer):
    """Output base: the record with its patient's subject id and its audit fields."""

    subject_id = serializers.CharField(source="patient.subject_id", read_only=True)


def patient_field() -> serializers.IntegerField:
    return serializers.IntegerField(help_text="Patient id (see GET /api/patients/).")


def visit_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, allow_null=True, help_text="Visit id of this patient (optional)."
    )


# Request bodies of a record that may be taken at a visit. (Comments, not docstrings: the schema
# would show a docstring as the description of every serializer built on these.)
class RecordAtVisitCreateSerializer(serializers.ModelSerializer):
    # The patient's id and the visit's (optional), besides the record's own `Meta.fields`.
    patient = patient_field()
    visit = visit_field()


class RecordAtVisitUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    # The changes, `reason` and `version`; the visit by id.
    visit = visit_field()
