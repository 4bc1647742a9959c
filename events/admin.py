from django.contrib import admin

from .models import Delivery, Event, EventLink, WorkerHeartbeat


class EventLinkInline(admin.TabularInline):
    model = EventLink
    extra = 0
    can_delete = False
    readonly_fields = ["target_type", "target_id"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only."""

    list_display = ["id", "occurred_at", "code", "milestone", "who", "summary"]
    list_filter = ["milestone", "code"]
    search_fields = ["code", "summary", "subject_id"]
    inlines = [EventLinkInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EventLink)
class EventLinkAdmin(admin.ModelAdmin):
    list_display = ["event", "target_type", "target_id"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "subscriber", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "subscriber"]
    raw_id_fields = ["event", "resolved_by"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]
