from django.urls import path

from . import public_views

urlpatterns = [
    path("<str:token>/", public_views.invoice_page, name="invoice-public"),
    path("<str:token>/pdf/", public_views.invoice_pdf, name="invoice-public-pdf"),
]
