from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from crm.api import CampaignViewSet, LeadViewSet, SourceViewSet, WebFormViewSet
from crm.automations import review_views
from crm.automations.urls import task_urls
from customers.api import CustomerViewSet, PropertyViewSet
from fsm.api import JobViewSet
from fsm.documents.api import EstimateViewSet, InvoiceViewSet, PaymentViewSet
from fsm.pricebook.api import PricebookItemViewSet
from users.access import public
from users.permissions import HasRole
from users.roles import ALL_ROLES

from . import views


class ApiRootView(DefaultRouter.APIRootView):
    """The list of API endpoints."""

    permission_classes = [HasRole]
    allowed_roles = ALL_ROLES


router = DefaultRouter()
router.include_format_suffixes = False
router.APIRootView = ApiRootView
router.register("customers", CustomerViewSet, basename="customer")
router.register("properties", PropertyViewSet, basename="property")
router.register("leads", LeadViewSet, basename="lead")
router.register("sources", SourceViewSet, basename="source")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("forms", WebFormViewSet, basename="webform")
router.register("jobs", JobViewSet, basename="api-job")  # "job-list" and "job-detail" are the pages
router.register("estimates", EstimateViewSet, basename="api-estimate")
router.register("invoices", InvoiceViewSet, basename="api-invoice")
router.register("payments", PaymentViewSet, basename="api-payment")
router.register("pricebook-items", PricebookItemViewSet, basename="pricebook-item")


class SchemaView(SpectacularAPIView):
    permission_classes = [HasRole]
    allowed_roles = ALL_ROLES


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [HasRole]
    allowed_roles = ALL_ROLES


auth_urls = [
    path("login/", public(auth_views.LoginView.as_view(redirect_authenticated_user=True)), name="login"),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("password-reset/", public(auth_views.PasswordResetView.as_view()), name="password_reset"),
    path(
        "password-reset/done/", public(auth_views.PasswordResetDoneView.as_view()), name="password_reset_done"
    ),
    path(
        "reset/<uidb64>/<token>/",
        public(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/", public(auth_views.PasswordResetCompleteView.as_view()), name="password_reset_complete"
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include(auth_urls)),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("customers/", include("customers.urls")),
    path("leads/", include("crm.urls")),
    path("forms/", include("crm.webforms.public_urls")),
    path("chat/", include("crm.webchat.urls")),
    path("e/", include("fsm.estimates.public_urls")),  # the customer's estimate link (a stored token)
    path("i/", include("fsm.invoices.public_urls")),  # the customer's invoice link
    path("integrations/email/", include("integrations.email.urls")),
    path("integrations/", include("integrations.urls")),
    path("exceptions/", include("events.urls")),
    path("automations/", include("crm.automations.urls")),
    path("", include(task_urls)),  # /tasks/ and /settings/automations/ (before the settings hub's URLs)
    # Review requests: the customer's link (a contract: it is in every request sent; README), the
    # owner's settings and report.
    path("r/<str:token>", review_views.review_click, name="review-click"),
    path("settings/reviews/", review_views.review_settings, name="review-settings"),
    path("reports/reviews/", review_views.review_report, name="review-report"),
    path("settings/", include("users.urls")),
    path("finance/", include("finance.urls")),
    path("", include("fsm.urls")),
    path("api/v1/", include(router.urls)),
    path("api/v1/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/v1/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
