"""Allocation lists in the admin: visible only to a role allowed to unconceal them (data
manager), and every opening of a list is logged like an API view."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from ecrf.access import Action, grants_for, is_unrestricted, study_ids_for
from ecrf.admin_base import ReadOnlyInline
from trials.randomization.models import AllocationList, AllocationListView, AllocationSlot
from trials.randomization.selectors import sees_whole_list, slot_scope_q
from trials.randomization.services import allocation_list_record_view


def may_unconceal(request) -> bool:
    if is_unrestricted(request.user):
        return True
    return any(g.allows(Action.VIEW_ALLOCATION_LIST) for g in grants_for(request.user))


class ConcealedAdmin(admin.ModelAdmin):
    """Read-only, and absent for everyone who may not see allocation lists."""

    study_path = "study"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = study_ids_for(request.user, Action.VIEW_ALLOCATION_LIST)
        return queryset if ids is None else queryset.filter(**{f"{self.study_path}__in": ids})

    def has_module_permission(self, request):
        return may_unconceal(request)

    def has_view_permission(self, request, obj=None):
        return may_unconceal(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # slots and lists are never deleted


class AllocationSlotInline(ReadOnlyInline):
    model = AllocationSlot
    fields = [
        "number",
        "stratum",
        "arm",
        "block",
        "block_size",
        "patient",
        "randomized_on",
        "back_entered",
        "allocated_by",
    ]
    readonly_fields = fields
    ordering = ["number"]

    def has_view_permission(self, request, obj=None):
        return may_unconceal(request)

    def get_queryset(self, request):
        # Scoped like the API: a site-scoped data manager sees only the slots of their sites.
        queryset = super().get_queryset(request)
        condition = slot_scope_q(request.user)
        return queryset if condition is None else queryset.filter(condition)


@admin.register(AllocationList)
class AllocationListAdmin(ConcealedAdmin, SimpleHistoryAdmin):
    list_display = ["pk", "study", "source", "active", "created_by", "created_at"]
    list_filter = ["study", "source", "active"]
    readonly_fields = ["study", "source", "seed", "scheme", "created_by", "created_at", "active"]
    fields = readonly_fields
    inlines = [AllocationSlotInline]

    def get_fields(self, request, obj=None):
        # The seed regenerates every site's slots: study-wide unconcealment only.
        if obj is not None and not sees_whole_list(request.user, obj):
            return [name for name in self.fields if name != "seed"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        allocation_list = self.get_queryset(request).filter(pk=object_id).first()
        if allocation_list is not None and request.method == "GET":
            allocation_list_record_view(
                actor=request.user,
                allocation_list=allocation_list,
                channel=AllocationListView.Channel.ADMIN,
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AllocationListView)
class AllocationListViewAdmin(ConcealedAdmin):
    study_path = "allocation_list__study"
    list_display = ["allocation_list", "viewed_by", "viewed_at", "channel"]
    list_filter = ["channel", "allocation_list__study"]
    readonly_fields = ["allocation_list", "viewed_by", "viewed_at", "channel"]
    fields = readonly_fields
