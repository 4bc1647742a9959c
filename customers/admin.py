from django.contrib import admin

from .models import Customer, EmailAddress, PhoneNumber, Property


class PhoneInline(admin.TabularInline):
    model = PhoneNumber
    extra = 0


class EmailInline(admin.TabularInline):
    model = EmailAddress
    extra = 0


class PropertyInline(admin.StackedInline):
    model = Property
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "display_name", "kind", "created_at", "merged_into"]
    list_filter = ["kind", "created_at"]
    search_fields = ["search_text", "search_digits"]
    readonly_fields = ["merged_into", "merged_at", "created_by"]
    inlines = [PhoneInline, EmailInline, PropertyInline]

    def save_related(self, request, form, formsets, change):
        from .services import customer_refresh_search

        super().save_related(request, form, formsets, change)
        customer_refresh_search(customer=form.instance)


@admin.register(Property)
class PropertyAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "street", "city", "state", "zip_code"]
    search_fields = ["street", "city", "zip_code"]
    raw_id_fields = ["customer"]


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "kind", "sms_consent"]
    list_filter = ["sms_consent", "kind"]
    search_fields = ["number"]
    raw_id_fields = ["customer"]


@admin.register(EmailAddress)
class EmailAddressAdmin(admin.ModelAdmin):
    list_display = ["email", "customer", "is_primary"]
    search_fields = ["email"]
    raw_id_fields = ["customer"]
