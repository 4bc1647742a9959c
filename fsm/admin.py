from django.contrib import admin

from .models import (
    Equipment,
    FieldServiceSettings,
    Job,
    JobType,
    Skill,
    TechnicianProfile,
    TimeEntry,
    Visit,
)
from .pricebook.models import PricebookItem


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]


@admin.register(TechnicianProfile)
class TechnicianProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "color", "is_active"]
    filter_horizontal = ["skills"]


@admin.register(JobType)
class JobTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "default_duration_minutes", "required_skill", "is_active"]


class VisitInline(admin.TabularInline):
    model = Visit
    extra = 0
    fields = ["start", "end", "state", "arrival_window_start", "arrival_window_end"]
    readonly_fields = fields  # moved through fsm.services (conflict checks, timelines)
    can_delete = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Read-mostly: states change through fsm.services only (the FSM field is protected)."""

    list_display = ["number", "customer", "state", "priority", "created_at"]
    list_filter = ["state", "priority"]
    search_fields = ["number", "customer__search_text"]
    readonly_fields = [f.name for f in Job._meta.fields]
    inlines = [VisitInline]


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ["kind", "brand", "model_number", "serial_number", "property"]
    raw_id_fields = ["property"]


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    list_display = ["technician", "kind", "job", "started_at", "ended_at"]
    list_filter = ["kind"]
    raw_id_fields = ["job", "visit"]


@admin.register(FieldServiceSettings)
class FieldServiceSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "road_factor", "average_speed_kmh", "slot_step_minutes"]


@admin.register(PricebookItem)
class PricebookItemAdmin(admin.ModelAdmin):
    """Read-only: items change through fsm.pricebook.services (the Pricebook page, the API, the import),
    which check the money rules and record each change."""

    list_display = ["code", "name", "kind", "category", "unit", "price", "cost", "taxable", "active"]
    list_filter = ["kind", "active", "taxable", "category"]
    search_fields = ["code", "name"]
    readonly_fields = [f.name for f in PricebookItem._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
