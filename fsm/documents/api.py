"""REST endpoints for estimates, invoices and payments: reads, and one action per transition, each through
the same services as the pages (an ApplicationError becomes a 400 naming the field)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.models import Customer, Property
from users.permissions import HasRole
from users.roles import Role

from ..estimates import services as estimates
from ..estimates.models import Estimate, EstimateLine, EstimateOption
from ..invoices import services as invoices
from ..invoices.models import Invoice, InvoiceLine, Payment
from ..models import DISPATCH_ROLES, Job
from ..pricebook.models import PricebookItem
from .lines import LineIn

MONEY_ROLES = (Role.OWNER, Role.OFFICE)
AMOUNT = {"max_digits": 12, "decimal_places": 2}


# --- Serializers --------------------------------------------------------------------------------------


class LineFields(serializers.Serializer):
    """A line to add: a pricebook item and/or typed fields. Money as strings ("189.00")."""

    item = serializers.PrimaryKeyRelatedField(
        queryset=PricebookItem.objects.all(), required=False, allow_null=True
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    quantity = serializers.CharField(required=False, default="1")
    unit_price = serializers.CharField(required=False, allow_null=True, default=None)
    discount = serializers.CharField(required=False, default="0")
    taxable = serializers.BooleanField(required=False, allow_null=True, default=None)

    def line_in(self) -> LineIn:
        data = self.validated_data
        return LineIn(
            name=data.get("name", ""),
            description=data.get("description"),
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            discount=data["discount"],
            taxable=data["taxable"],
            is_addon=data.get("is_addon", False),
        )


class EstimateLineIn(LineFields):
    option = serializers.IntegerField()
    is_addon = serializers.BooleanField(required=False, default=False)


class EstimateLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = EstimateLine
        fields = [
            "id", "item", "code", "name", "description", "quantity", "unit", "unit_price", "discount",
            "taxable", "amount", "is_addon", "addon_selected",
        ]  # fmt: skip


class EstimateOptionSerializer(serializers.ModelSerializer):
    lines = EstimateLineSerializer(many=True, read_only=True)

    class Meta:
        model = EstimateOption
        fields = ["id", "name", "description", "discount", "subtotal", "tax", "total", "lines"]


class EstimateSerializer(serializers.ModelSerializer):
    options = EstimateOptionSerializer(many=True, read_only=True)

    class Meta:
        model = Estimate
        fields = [
            "id", "number", "state", "customer", "property", "job", "origin_lead_id", "title", "message",
            "tax_percent", "tax_exempt_reason", "expires_on", "sent_at", "viewed_at", "decided_at",
            "accepted_option", "accepted_total", "signer_name", "accepted_in_person", "decline_reason",
            "created_at", "options",
        ]  # fmt: skip


class EstimateCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    property = serializers.PrimaryKeyRelatedField(
        queryset=Property.objects.all(), required=False, allow_null=True
    )
    job = serializers.PrimaryKeyRelatedField(queryset=Job.objects.all(), required=False, allow_null=True)
    origin_lead_id = serializers.IntegerField(required=False, allow_null=True)
    title = serializers.CharField(max_length=200)
    message = serializers.CharField(required=False, allow_blank=True, default="")
    options = serializers.ListField(
        child=serializers.CharField(max_length=80), min_length=1, max_length=3, default=["Option 1"]
    )


class SendSerializer(serializers.Serializer):
    sms = serializers.BooleanField(default=True)
    email = serializers.BooleanField(default=True)


class AcceptSerializer(serializers.Serializer):
    option = serializers.IntegerField()
    addons = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    signer_name = serializers.CharField(allow_blank=True, max_length=150)
    signature = serializers.CharField(
        allow_blank=True, help_text="A PNG data URL (data:image/png;base64,...)."
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=300)


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "id", "item", "code", "name", "description", "quantity", "unit", "unit_price", "discount",
            "taxable", "amount", "origin",
        ]  # fmt: skip


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id", "invoice", "customer", "method", "amount", "applied", "reference", "note", "received_at",
            "credit_note", "refund_of", "created_at",
        ]  # fmt: skip


class InvoiceSerializer(serializers.ModelSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    balance = serializers.DecimalField(read_only=True, **AMOUNT)

    class Meta:
        model = Invoice
        fields = [
            "id", "number", "state", "customer", "property", "job", "estimate", "message", "terms",
            "payment_terms_days", "tax_percent", "tax_exempt_reason", "discount", "subtotal", "tax", "total",
            "amount_paid", "amount_credited", "balance", "issued_on", "due_on", "paid_at", "voided_at",
            "void_reason", "created_at", "lines",
        ]  # fmt: skip


class InvoiceCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False)
    property = serializers.PrimaryKeyRelatedField(
        queryset=Property.objects.all(), required=False, allow_null=True
    )
    job = serializers.PrimaryKeyRelatedField(queryset=Job.objects.all(), required=False, allow_null=True)
    message = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, data):
        if not data.get("customer") and not data.get("job"):
            raise serializers.ValidationError({"customer": "Give the customer or the job."})
        return data


class PaySerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=[c for c in Payment.Method.choices if c[0] not in ("credit", "online")]
    )
    amount = serializers.CharField()
    reference = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    keep_credit = serializers.BooleanField(required=False, default=False)


class CreditNoteIn(serializers.Serializer):
    amount = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    refund = serializers.BooleanField(default=True)
    method = serializers.ChoiceField(choices=Payment.Method.choices, default=Payment.Method.CASH)
    reference = serializers.CharField(required=False, allow_blank=True, default="")


class CreditNoteOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    amount = serializers.DecimalField(**AMOUNT)
    refunded = serializers.BooleanField()


# --- Views --------------------------------------------------------------------------------------------


class EstimateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Estimates (office and dispatch). Create a draft, add options and lines, then one action per
    transition: send, accept (with a PNG data-URL signature), decline, renew."""

    permission_classes = [HasRole]
    allowed_roles = DISPATCH_ROLES
    serializer_class = EstimateSerializer
    filterset_fields = ["state", "customer", "job"]

    def get_queryset(self):
        return Estimate.objects.prefetch_related("options__lines").order_by("-created_at", "-pk")

    def _out(self, estimate, code=status.HTTP_200_OK):
        return Response(EstimateSerializer(self.get_queryset().get(pk=estimate.pk)).data, status=code)

    @extend_schema(request=EstimateCreateSerializer, responses={201: EstimateSerializer})
    def create(self, request):
        body = EstimateCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        estimate = estimates.estimate_create(
            customer=data["customer"],
            property=data.get("property"),
            job=data.get("job"),
            origin_lead_id=data.get("origin_lead_id"),
            title=data["title"],
            message=data["message"],
            option_names=tuple(data["options"]),
            actor=request.user,
        )
        return self._out(estimate, status.HTTP_201_CREATED)

    @extend_schema(request=EstimateLineIn, responses=EstimateSerializer)
    @action(detail=True, methods=["post"])
    def lines(self, request, pk=None):
        estimate = self.get_object()
        body = EstimateLineIn(data=request.data)
        body.is_valid(raise_exception=True)
        option = estimate.options.filter(pk=body.validated_data["option"]).first()
        if option is None:
            raise serializers.ValidationError({"option": "Not an option of this estimate."})
        estimates.line_add(
            option=option, actor=request.user, line=body.line_in(), item=body.validated_data.get("item")
        )
        return self._out(estimate)

    @extend_schema(request=SendSerializer, responses=EstimateSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        body = SendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._out(
            estimates.estimate_send(estimate=self.get_object(), actor=request.user, **body.validated_data)
        )

    @extend_schema(request=AcceptSerializer, responses=EstimateSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        body = AcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        estimate = estimates.estimate_accept(
            estimate=self.get_object(),
            option_id=data["option"],
            addon_ids=data["addons"],
            signer_name=data["signer_name"],
            signature=data["signature"],
            actor=request.user,
            in_person=True,
        )
        return self._out(estimate)

    @extend_schema(request=ReasonSerializer, responses=EstimateSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._out(
            estimates.estimate_decline(estimate=self.get_object(), actor=request.user, **body.validated_data)
        )

    @extend_schema(request=None, responses=EstimateSerializer)
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        return self._out(estimates.estimate_renew(estimate=self.get_object(), actor=request.user))


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invoices (owner and office). Create a draft (for a job: its draft), add lines, then issue, send,
    pay, void, credit-note: one action each."""

    permission_classes = [HasRole]
    allowed_roles = MONEY_ROLES
    serializer_class = InvoiceSerializer
    filterset_fields = ["state", "customer", "job"]

    def get_queryset(self):
        return Invoice.objects.prefetch_related("lines").order_by("-created_at", "-pk")

    def _out(self, invoice, code=status.HTTP_200_OK):
        return Response(InvoiceSerializer(self.get_queryset().get(pk=invoice.pk)).data, status=code)

    @extend_schema(request=InvoiceCreateSerializer, responses={201: InvoiceSerializer})
    def create(self, request):
        body = InvoiceCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("job"):
            invoice = invoices.invoice_for_job(job=data["job"], actor=request.user)
        else:
            invoice = invoices.invoice_create(
                customer=data["customer"],
                property=data.get("property"),
                message=data["message"],
                actor=request.user,
            )
        return self._out(invoice, status.HTTP_201_CREATED)

    @extend_schema(request=LineFields, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def lines(self, request, pk=None):
        body = LineFields(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = self.get_object()
        invoices.invoice_line_add(
            invoice=invoice, actor=request.user, line=body.line_in(), item=body.validated_data.get("item")
        )
        return self._out(invoice)

    @extend_schema(request=SendSerializer, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        body = SendSerializer(data=request.data or {"sms": False, "email": False})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return self._out(
            invoices.invoice_issue(
                invoice=self.get_object(), actor=request.user, send_sms=data["sms"], send_email=data["email"]
            )
        )

    @extend_schema(request=SendSerializer, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        body = SendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._out(
            invoices.invoice_send(invoice=self.get_object(), actor=request.user, **body.validated_data)
        )

    @extend_schema(request=ReasonSerializer, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._out(
            invoices.invoice_void(invoice=self.get_object(), actor=request.user, **body.validated_data)
        )

    @extend_schema(request=PaySerializer, responses={201: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        body = PaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        payment = invoices.payment_record(
            invoice=self.get_object(), actor=request.user, **body.validated_data
        )
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CreditNoteIn, responses={201: CreditNoteOut})
    @action(detail=True, methods=["post"], url_path="credit-notes")
    def credit_notes(self, request, pk=None):
        body = CreditNoteIn(data=request.data)
        body.is_valid(raise_exception=True)
        note = invoices.credit_note_issue(
            invoice=self.get_object(), actor=request.user, **body.validated_data
        )
        return Response(CreditNoteOut(note).data, status=status.HTTP_201_CREATED)


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments and refunds (negative), newest first. Record one with POST /invoices/{id}/pay/."""

    permission_classes = [HasRole]
    allowed_roles = MONEY_ROLES
    serializer_class = PaymentSerializer
    filterset_fields = ["method", "customer", "invoice"]
    queryset = Payment.objects.order_by("-received_at", "-pk")
