from django.contrib import admin

from ecrf.access import Action, study_ids_for
from ecrf.admin_base import ScopedAdmin
from trials.models import (
    Arm,
    EligibilityCriterion,
    EndpointDefinition,
    ProtocolVersion,
    Regimen,
    Site,
    Study,
    VisitDefinition,
)


class DesignAdmin(ScopedAdmin):
    site_field = None


class PartAdmin(DesignAdmin):
    study_field = "protocol_version__study"
    list_filter = ["protocol_version__study"]


@admin.register(Study)
class StudyAdmin(DesignAdmin):
    list_display = ["registry_id", "short_title", "phase", "design", "status", "target_enrollment"]
    list_filter = ["design", "status", "phase"]
    search_fields = ["registry_id", "title", "short_title"]

    def get_queryset(self, request):
        # The study is the row itself: show the studies in which the user has a role.
        queryset = Study.objects.all()
        ids = study_ids_for(request.user, Action.VIEW)
        return queryset if ids is None else queryset.filter(pk__in=ids)


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(DesignAdmin):
    list_display = ["study", "number", "label", "effective_date", "summary_of_changes"]
    list_filter = ["study"]
    search_fields = ["study__registry_id", "summary_of_changes"]
    exclude = ["content"]


@admin.register(Site)
class SiteAdmin(DesignAdmin):
    list_display = ["code", "name", "study", "city", "country", "is_active"]
    list_filter = ["study", "is_active", "country"]
    search_fields = ["code", "name", "study__registry_id"]


@admin.register(Arm)
class ArmAdmin(DesignAdmin):
    list_display = ["code", "name", "study", "arm_type", "allocation_ratio"]
    list_filter = ["study", "arm_type"]
    search_fields = ["code", "name", "study__registry_id"]


@admin.register(Regimen)
class RegimenAdmin(PartAdmin):
    list_display = [
        "code",
        "protocol_version",
        "arm",
        "drug",
        "dose_basis",
        "dose_amount",
        "frequency",
    ]
    list_filter = ["protocol_version__study", "drug", "dose_basis"]
    search_fields = ["code", "drug"]


@admin.register(VisitDefinition)
class VisitDefinitionAdmin(PartAdmin):
    list_display = [
        "code",
        "name",
        "protocol_version",
        "day_offset",
        "window_before",
        "window_after",
    ]
    search_fields = ["code", "name"]


@admin.register(EligibilityCriterion)
class EligibilityCriterionAdmin(PartAdmin):
    list_display = ["code", "kind", "protocol_version", "source", "text"]
    list_filter = ["protocol_version__study", "kind"]
    search_fields = ["code", "text"]


@admin.register(EndpointDefinition)
class EndpointDefinitionAdmin(PartAdmin):
    list_display = ["code", "name", "kind", "protocol_version", "is_primary", "time_point_day"]
    list_filter = ["protocol_version__study", "kind", "is_primary"]
    search_fields = ["code", "name"]
