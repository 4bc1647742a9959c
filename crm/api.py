"""Leads, sources, campaigns and web forms over JSON. State changes are explicit actions on services."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.errors import ApplicationError
from users.permissions import HasRole
from users.roles import STAFF_ROLES

from . import selectors, services
from .models import Campaign, Lead, LostReason, ServiceType, Source, WebForm
from .webforms import services as webform_services
from .webforms.services import SETTINGS as WEBFORM_SETTINGS


class LeadSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.display_name", read_only=True, allow_null=True)
    source = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    first_touch_source = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    response_seconds = serializers.FloatField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "state",
            "customer",
            "customer_name",
            "property",
            "name",
            "phone",
            "email",
            "service",
            "message",
            "source",
            "campaign",
            "first_touch_source",
            "first_touch_campaign",
            "attribution",
            "external_id",
            "assigned_to",
            "arrived_at",
            "first_response_at",
            "response_seconds",
            "lost_reason",
            "lost_note",
            "requested_window_start",
            "requested_window_end",
            "booking_notes",
            "booked_at",
            "closed_at",
        ]
        read_only_fields = fields


class LeadCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    street = serializers.CharField(max_length=200, required=False, allow_blank=True)
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    state = serializers.CharField(max_length=2, required=False, allow_blank=True)
    zip_code = serializers.CharField(max_length=10, required=False, allow_blank=True)
    service = serializers.CharField(max_length=200, required=False, allow_blank=True)
    message = serializers.CharField(required=False, allow_blank=True)
    source = serializers.SlugRelatedField(slug_field="slug", queryset=Source.objects.filter(is_active=True))
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, allow_null=True
    )
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True)


class BookSerializer(serializers.Serializer):
    service = serializers.CharField(max_length=200, required=False, allow_blank=True)
    window_start = serializers.DateTimeField(required=False, allow_null=True)
    window_end = serializers.DateTimeField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class LoseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=LostReason.choices)
    note = serializers.CharField(required=False, allow_blank=True)


class AssignSerializer(serializers.Serializer):
    assigned_to = serializers.PrimaryKeyRelatedField(queryset=selectors.office_users(), allow_null=True)


class LeadApiFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search")
    source = django_filters.CharFilter(field_name="source__slug")
    arrived_after = django_filters.IsoDateTimeFilter(field_name="arrived_at", lookup_expr="gte")
    arrived_before = django_filters.IsoDateTimeFilter(field_name="arrived_at", lookup_expr="lt")

    class Meta:
        model = Lead
        fields = ["state", "campaign", "assigned_to", "customer"]

    def search(self, queryset, name, value):
        return selectors.LeadFilter.search(self, queryset, name, value)


class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Leads. POST creates one through the same capture as every channel; transitions are actions."""

    permission_classes = [HasRole]
    allowed_roles = STAFF_ROLES
    serializer_class = LeadSerializer
    filterset_class = LeadApiFilter
    ordering_fields = ["arrived_at", "first_response_at"]

    def get_queryset(self):
        return selectors.leads_visible_to(self.request.user).select_related(
            "customer", "source", "first_touch_source"
        )

    @extend_schema(request=LeadCreateSerializer, responses={201: LeadSerializer, 200: LeadSerializer})
    def create(self, request):
        body = LeadCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        source, campaign, external_id = (
            data.pop("source"),
            data.pop("campaign", None),
            data.pop("external_id", ""),
        )
        captured = services.lead_capture(
            source=source,
            contact=services.LeadIn(**data),
            campaign=campaign,
            external_id=external_id,
            actor=request.user,
            raw_payload=request.data,
        )
        return Response(
            LeadSerializer(captured.lead).data,
            status=status.HTTP_201_CREATED if captured.created else status.HTTP_200_OK,
        )

    def _do(self, function, **kwargs):
        lead = function(lead=self.get_object(), actor=self.request.user, **kwargs)
        return Response(LeadSerializer(self.get_queryset().get(pk=lead.pk)).data)

    @extend_schema(request=None, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def contact(self, request, pk=None):
        return self._do(services.lead_mark_contacted)

    @extend_schema(request=None, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def qualify(self, request, pk=None):
        return self._do(services.lead_qualify)

    @extend_schema(request=BookSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def book(self, request, pk=None):
        body = BookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._do(services.lead_book, **body.validated_data)

    @extend_schema(request=None, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        return self._do(services.lead_win)

    @extend_schema(request=LoseSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        body = LoseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._do(services.lead_lose, **body.validated_data)

    @extend_schema(request=None, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def spam(self, request, pk=None):
        return self._do(services.lead_mark_spam)

    @extend_schema(request=None, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._do(services.lead_reopen)

    @extend_schema(request=AssignSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._do(services.lead_assign, assignee=body.validated_data["assigned_to"])


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ["id", "name", "slug", "kind", "is_active", "created_at"]


class SourceViewSet(viewsets.ModelViewSet):
    """Lead sources. API keys are created and revoked in the app (shown once)."""

    permission_classes = [HasRole]
    allowed_roles = STAFF_ROLES
    serializer_class = SourceSerializer
    queryset = Source.objects.order_by("name")
    filterset_fields = ["kind", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "source",
            "utm_campaign",
            "cost_type",
            "cost",
            "starts_on",
            "ends_on",
            "is_active",
        ]

    def validate(self, attrs):
        if attrs.get("cost") is not None and attrs["cost"] < 0:
            raise serializers.ValidationError({"cost": "Cost cannot be negative."})
        return attrs


class CampaignViewSet(viewsets.ModelViewSet):
    permission_classes = [HasRole]
    allowed_roles = STAFF_ROLES
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.order_by("name")
    filterset_fields = ["source", "is_active", "cost_type"]
    http_method_names = ["get", "post", "patch", "head", "options"]


class WebFormSerializer(serializers.ModelSerializer):
    services = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=ServiceType.objects.all(), required=False
    )

    class Meta:
        model = WebForm
        fields = ["id", "public_id", "source", "services", *WEBFORM_SETTINGS, "created_at"]
        read_only_fields = ["public_id", "created_at"]

    def validate_allowed_origins(self, value):
        if not isinstance(value, list):
            raise serializers.ValidationError("A list of origins such as https://example.com (no path).")
        try:
            return webform_services.origins_normalize(value)
        except ApplicationError as error:
            raise serializers.ValidationError(error.message) from None

    def web_form_in(self) -> webform_services.WebFormIn:
        """The service's input: the form as it is (on PATCH) with what was sent on top."""
        current = self.instance
        values = {name: getattr(current, name) for name in (*WEBFORM_SETTINGS, "source")} if current else {}
        if current is not None:
            values["services"] = list(current.services.all())
        values.update(self.validated_data)
        return webform_services.WebFormIn(**values)


class WebFormViewSet(viewsets.ModelViewSet):
    permission_classes = [HasRole]
    allowed_roles = STAFF_ROLES
    serializer_class = WebFormSerializer
    queryset = WebForm.objects.order_by("name").prefetch_related("services")
    filterset_fields = ["source", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = webform_services.web_form_create(
            data=serializer.web_form_in(), actor=self.request.user
        )

    def perform_update(self, serializer):
        serializer.instance = webform_services.web_form_update(
            web_form=serializer.instance, data=serializer.web_form_in(), actor=self.request.user
        )
