"""Reads of the study design, with a fixed number of queries whatever the number of studies."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from ecrf.access import Action, study_ids_for
from ecrf.exceptions import InvalidInput
from trials.models import ProtocolVersion, Study


def studies_for(user, action: Action = Action.VIEW) -> QuerySet[Study]:
    queryset = Study.objects.all()
    ids = study_ids_for(user, action)
    return queryset if ids is None else queryset.filter(pk__in=ids)


def studies_with_design(user) -> QuerySet[Study]:
    versions = ProtocolVersion.objects.order_by("number").prefetch_related(
        "visit_definitions",
        "endpoint_definitions",
        "eligibility_criteria",
        "regimens__arm",
    )
    return studies_for(user).prefetch_related(
        "sites", "arms", Prefetch("protocol_versions", queryset=versions)
    )


def visible_study(user, study_id: int) -> Study:
    """The study if the user has a role in it; unknown and foreign studies look the same."""
    study = studies_for(user).filter(pk=study_id).first()
    if study is None:
        raise InvalidInput("Unknown study.", field="study")
    return study


def protocol_version_of(study: Study, number: int | None) -> ProtocolVersion:
    """The study's protocol version `number`, or its current one."""
    versions = study.protocol_versions.order_by("-number")
    version = versions.first() if number is None else versions.filter(number=number).first()
    if version is None:
        raise InvalidInput(f"The study has no protocol version {number}.", field="protocol_version")
    return version


def diagnosis_names(study_id: int) -> dict[str, str]:
    """Every diagnosis code any protocol version of the study declares, with its name (the
    latest version's name wins); empty for a study that records no diagnosis. One query."""
    names: dict[str, str] = {}
    for content in (
        ProtocolVersion.objects.filter(study_id=study_id)
        .order_by("number")
        .values_list("content", flat=True)
    ):
        names.update({d["code"]: d["name"] for d in (content or {}).get("diagnoses", [])})
    return names
