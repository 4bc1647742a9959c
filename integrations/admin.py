from django.contrib import admin

from .models import InboundLead


@admin.register(InboundLead)
class InboundLeadAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "source", "status", "attempts", "received_at", "lead"]
    list_filter = ["status", "channel"]
    raw_id_fields = ["lead"]
    readonly_fields = ["contact", "attribution", "raw_payload", "last_error"]
