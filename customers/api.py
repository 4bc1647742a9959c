"""Customers and properties over JSON. Reads are viewsets; writes call customers.services."""

import django_filters
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.errors import ApplicationError
from users.permissions import HasRole

from . import selectors, services
from .models import Customer, EmailAddress, PhoneNumber, Property
from .selectors import CUSTOMER_READERS, CUSTOMER_WRITERS


class PhoneSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False)
    number = serializers.CharField(help_text="Any formatting; stored in E.164.")
    national = serializers.SerializerMethodField()

    class Meta:
        model = PhoneNumber
        fields = ["id", "number", "national", "kind", "is_primary", "sms_consent", "consent_changed_at"]
        read_only_fields = ["sms_consent", "consent_changed_at"]

    def get_national(self, obj) -> str:
        return obj.number.as_national if obj.number else ""

    def to_representation(self, obj):
        data = super().to_representation(obj)
        data["number"] = obj.number.as_e164
        return data


class EmailSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False)
    email = serializers.CharField()

    class Meta:
        model = EmailAddress
        fields = ["id", "email", "is_primary"]


class PropertySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False)

    class Meta:
        model = Property
        fields = [
            "id",
            "customer",
            "label",
            "street",
            "unit",
            "city",
            "state",
            "zip_code",
            "latitude",
            "longitude",
            "time_zone",
            "access_notes",
            "is_primary",
            "tax_exempt",
            "tax_exempt_certificate",
            "created_at",
        ]
        read_only_fields = ["customer", "created_at"]


class TagNamesField(serializers.ListField):
    """The customer's tags as their names; written as a list of names (new ones become tags)."""

    child = serializers.CharField(max_length=40)

    def to_representation(self, data):
        return [tag.name for tag in data.all()]

    def to_internal_value(self, data):
        try:
            return services.tags_normalize(super().to_internal_value(data))
        except ApplicationError as exc:
            raise serializers.ValidationError(exc.message) from None


class CustomerSerializer(serializers.ModelSerializer):
    tags = TagNamesField(required=False, help_text="Tag names; setting them replaces the customer's tags.")
    phones = PhoneSerializer(many=True, required=False)
    emails = EmailSerializer(many=True, required=False)
    properties = PropertySerializer(many=True, required=False)
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "display_name",
            "kind",
            "first_name",
            "last_name",
            "company_name",
            "notes",
            "tax_exempt",
            "tax_exempt_certificate",
            "tags",
            "phones",
            "emails",
            "properties",
            "created_at",
            "updated_at",
            "merged_into",
        ]
        read_only_fields = ["created_at", "updated_at", "merged_into"]


def _service_kwargs(data: dict) -> dict:
    """Validated serializer data to customers.services arguments."""
    kwargs = {k: data[k] for k in services.CUSTOMER_FIELDS if k in data}
    if "phones" in data:
        kwargs["phones"] = [
            services.PhoneIn(**{k: v for k, v in p.items() if k in ("number", "kind", "is_primary", "id")})
            for p in data["phones"]
        ]
    if "emails" in data:
        kwargs["emails"] = [services.EmailIn(**e) for e in data["emails"]]
    if "properties" in data:
        kwargs["properties"] = [services.PropertyIn(**p) for p in data["properties"]]
    return kwargs


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name, phone, e-mail or street")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    zip_code = django_filters.CharFilter(field_name="properties__zip_code", distinct=True)
    tag = django_filters.CharFilter(field_name="tags__name", lookup_expr="iexact", label="Tagged with")

    class Meta:
        model = Customer
        fields = ["kind"]

    def search(self, queryset, name, value):
        return selectors.customer_search(queryset, value)


class MergeSerializer(serializers.Serializer):
    duplicate = serializers.IntegerField(help_text="The customer to fold into this one.")


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers. Create with POST, change with PATCH/PUT, merge a duplicate with POST .../merge/."""

    permission_classes = [HasRole]
    allowed_roles = CUSTOMER_READERS
    write_roles = CUSTOMER_WRITERS
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["created_at", "sort_name"]

    def get_queryset(self):
        return selectors.with_contacts(selectors.customers_visible_to(self.request.user).active()).order_by(
            "sort_name", "pk"
        )

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            customer = services.customer_create(actor=request.user, **_service_kwargs(data))
            if data.get("tags"):
                services.customer_tags_set(customer=customer, names=data["tags"], actor=request.user)
        return Response(self._fresh(customer), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        customer = self.get_object()
        serializer = self.get_serializer(customer, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        kwargs = _service_kwargs(data)
        with transaction.atomic():
            if kwargs or "tags" not in data:  # a PATCH of the tags alone changes nothing else
                services.customer_update(customer=customer, actor=request.user, **kwargs)
            if "tags" in data:
                services.customer_tags_set(customer=customer, names=data["tags"], actor=request.user)
        return Response(self._fresh(customer))

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(request=MergeSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        survivor = self.get_object()
        body = MergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        duplicate = selectors.get_customer_for_user(request.user, body.validated_data["duplicate"])
        with transaction.atomic():
            services.customer_merge(survivor=survivor, duplicate=duplicate, actor=request.user)
        return Response(self._fresh(survivor))

    def _fresh(self, customer: Customer) -> dict:
        return CustomerSerializer(self.get_queryset().get(pk=customer.pk)).data


class PropertyFilter(django_filters.FilterSet):
    class Meta:
        model = Property
        fields = ["customer", "zip_code", "city", "state"]


class PropertyViewSet(viewsets.ReadOnlyModelViewSet):
    """Service addresses. Add or change them through the customer (they belong to its record)."""

    permission_classes = [HasRole]
    allowed_roles = CUSTOMER_READERS
    serializer_class = PropertySerializer
    filterset_class = PropertyFilter

    def get_queryset(self):
        return selectors.properties_visible_to(self.request.user).order_by("pk")
