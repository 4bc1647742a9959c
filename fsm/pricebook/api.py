"""Pricebook items over JSON (owner and office): list with filters and search, read, create, change;
deactivate and reactivate are actions. Every write goes through fsm.pricebook.services, so a refusal is
a 400 naming the field, as on the pages."""

from dataclasses import replace

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from users.permissions import HasRole
from users.roles import STAFF_ROLES

from . import selectors, services
from .models import PricebookItem
from .services import ItemIn

MONEY = {"max_digits": 12, "decimal_places": 2}


class PricebookItemSerializer(serializers.ModelSerializer):
    margin = serializers.DecimalField(**MONEY, read_only=True, help_text="Price minus cost")

    class Meta:
        model = PricebookItem
        fields = [
            "id",
            "kind",
            "code",
            "name",
            "description",
            "category",
            "unit",
            "price",
            "cost",
            "markup_percent",
            "member_price",
            "margin",
            "taxable",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PricebookItemInSerializer(serializers.Serializer):
    """What a client sends. The service checks the rules (not negative, member price at most the price,
    code unique whatever its case); a markup prices the item from its cost and the price is ignored."""

    kind = serializers.ChoiceField(choices=PricebookItem.Kind.choices, default=PricebookItem.Kind.SERVICE)
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="each")
    price = serializers.DecimalField(**MONEY, required=False, allow_null=True, default=None)
    cost = serializers.DecimalField(**MONEY, required=False, allow_null=True, default=None)
    markup_percent = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True, default=None
    )
    member_price = serializers.DecimalField(**MONEY, required=False, allow_null=True, default=None)
    taxable = serializers.BooleanField(required=False, default=True)

    def item_in(self, item: PricebookItem | None = None) -> ItemIn:
        """The request's values; on a PATCH, over the item's own."""
        if item is None or not self.partial:
            return ItemIn(**self.validated_data)
        return replace(ItemIn.of(item), **self.validated_data)


class PricebookItemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", help_text="Every word in the code or the name")
    category = django_filters.CharFilter(field_name="category", lookup_expr="iexact")

    class Meta:
        model = PricebookItem
        fields = ["kind", "category", "active", "taxable"]

    def search(self, queryset, name, value):
        return selectors.items_matching(queryset, value)


class PricebookItemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The pricebook: services (flat rate), materials (cost plus markup, or a price) and equipment.
    Filter by kind, category, active, taxable; `q` searches codes and names (best match first)."""

    permission_classes = [HasRole]
    allowed_roles = STAFF_ROLES
    serializer_class = PricebookItemSerializer
    filterset_class = PricebookItemFilter
    ordering_fields = ["code", "name", "price", "category", "updated_at"]
    queryset = PricebookItem.objects.order_by("category", "name", "pk")

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return PricebookItemInSerializer
        return PricebookItemSerializer

    def _answer(self, item: PricebookItem, code=status.HTTP_200_OK) -> Response:
        return Response(PricebookItemSerializer(item).data, status=code)

    @extend_schema(request=PricebookItemInSerializer, responses={201: PricebookItemSerializer})
    def create(self, request):
        body = PricebookItemInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = services.item_create(data=body.item_in(), actor=request.user)
        return self._answer(item, status.HTTP_201_CREATED)

    @extend_schema(request=PricebookItemInSerializer, responses=PricebookItemSerializer)
    def update(self, request, pk=None):
        return self._change(request, partial=False)

    @extend_schema(request=PricebookItemInSerializer, responses=PricebookItemSerializer)
    def partial_update(self, request, pk=None):
        return self._change(request, partial=True)

    def _change(self, request, *, partial: bool) -> Response:
        item = self.get_object()
        body = PricebookItemInSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        item = services.item_update(item=item, data=body.item_in(item), actor=request.user)
        return self._answer(item)

    @extend_schema(request=None, responses=PricebookItemSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Hide the item from the line editors' search (documents keep their lines)."""
        return self._answer(services.item_deactivate(item=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses=PricebookItemSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self._answer(services.item_reactivate(item=self.get_object(), actor=request.user))

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="Code or name, as typed"),
            OpenApiParameter("limit", int, description="At most this many (10; up to 50)"),
        ],
        responses=PricebookItemSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def search(self, request):
        """Active items for a line editor as the user types: an exact code first, then codes and names
        starting with the query, then the rest."""
        try:
            limit = int(request.query_params.get("limit") or selectors.SEARCH_LIMIT)
        except ValueError:
            limit = selectors.SEARCH_LIMIT
        items = selectors.item_search(q=request.query_params.get("q", ""), limit=limit)
        return Response(PricebookItemSerializer(items, many=True).data)
