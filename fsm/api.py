"""Jobs over JSON: read them, and book one with POST through fsm.services.job_book, the same path as the
office's "New job" page (a new address, the job and its first visit in one transaction)."""

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from customers.models import Customer, Property
from customers.services import PropertyIn
from users.models import User
from users.permissions import HasRole
from users.roles import Role

from . import services
from .models import DISPATCH_ROLES, Job, JobType, Priority, Visit


class AddressInSerializer(serializers.Serializer):
    street = serializers.CharField(max_length=200)
    unit = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=50)
    zip_code = serializers.CharField(max_length=10)
    access_notes = serializers.CharField(required=False, allow_blank=True, default="")


class VisitInSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Default: the job type's length"
    )
    technicians = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=User.objects.filter(is_active=True, groups__name=Role.TECHNICIAN)
    )
    arrival_window_start = serializers.DateTimeField(required=False, allow_null=True)
    arrival_window_end = serializers.DateTimeField(required=False, allow_null=True)
    confirm = serializers.BooleanField(default=False, help_text="Save even if it overlaps another visit")


class JobBookSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.filter(merged_into__isnull=True))
    property = serializers.PrimaryKeyRelatedField(
        queryset=Property.objects.all(), required=False, allow_null=True
    )
    address = AddressInSerializer(required=False, allow_null=True, help_text="A new service address")
    job_type = serializers.PrimaryKeyRelatedField(
        queryset=JobType.objects.filter(is_active=True), required=False, allow_null=True
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    service = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    office_notes = serializers.CharField(required=False, allow_blank=True, default="")
    requested_window_start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    requested_window_end = serializers.DateTimeField(required=False, allow_null=True, default=None)
    visit = VisitInSerializer(required=False, allow_null=True, help_text="Schedule the first visit now")

    def validate(self, attrs):
        if attrs.get("property") and attrs.get("address"):
            raise serializers.ValidationError({"address": ["Give a property or a new address, not both."]})
        return attrs

    def booking_kwargs(self) -> dict:
        data = dict(self.validated_data)
        address, visit = data.pop("address", None), data.pop("visit", None)
        return {
            "customer": data.pop("customer"),
            "property": data.pop("property", None),
            "address": PropertyIn(**address) if address else None,
            "visit": dict(visit) if visit else None,
            "job": data,
        }


class VisitSerializer(serializers.ModelSerializer):
    technician_ids = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "state",
            "start",
            "end",
            "arrival_window_start",
            "arrival_window_end",
            "technician_ids",
        ]

    def get_technician_ids(self, visit) -> list[int]:
        return [t.pk for t in visit.technicians.all()]


class JobSerializer(serializers.ModelSerializer):
    visits = VisitSerializer(many=True, read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "number",
            "state",
            "customer",
            "property",
            "job_type",
            "service",
            "priority",
            "description",
            "office_notes",
            "requested_window_start",
            "requested_window_end",
            "origin_lead_id",
            "created_at",
            "visits",
        ]


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Jobs (office and dispatch). Book one with POST: customer, the job's fields, a property or a new
    address, and optionally its first visit; all or nothing. An overlap without confirm is a 409 naming
    the conflicts; any refusal names the field and the part (address, job, visit)."""

    permission_classes = [HasRole]
    allowed_roles = DISPATCH_ROLES
    serializer_class = JobSerializer
    filterset_fields = ["state", "customer", "priority"]
    queryset = (
        Job.objects.select_related("customer", "property", "job_type")
        .prefetch_related("visits__technicians")
        .order_by("-created_at", "-pk")
    )

    def get_serializer_class(self):
        return JobBookSerializer if self.action == "create" else JobSerializer

    def create(self, request):
        serializer = JobBookSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.job_book(actor=request.user, **serializer.booking_kwargs())
        body = JobSerializer(self.get_queryset().get(pk=booking.job.pk)).data
        body["warnings"] = [c.as_dict() for c in booking.visit.warnings] if booking.visit else []
        return Response(body, status=status.HTTP_201_CREATED)
