from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Business, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "role_name", "is_active"]
    list_filter = ["groups", "is_active", "is_staff"]
    fieldsets = [*BaseUserAdmin.fieldsets, ("Contact", {"fields": ["phone"]})]

    @admin.display(description="Role")
    def role_name(self, obj):
        return obj.role or "-"


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "phone"]
