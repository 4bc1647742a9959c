from django.urls import path

from . import public_views

urlpatterns = [
    path("<str:token>/", public_views.estimate_page, name="estimate-public"),
    path("<str:token>/quote/", public_views.estimate_quote, name="estimate-public-quote"),
    path("<str:token>/accept/", public_views.estimate_accept, name="estimate-public-accept"),
    path("<str:token>/decline/", public_views.estimate_decline, name="estimate-public-decline"),
    path("<str:token>/pdf/", public_views.estimate_pdf, name="estimate-public-pdf"),
    path("<str:token>/photos/<int:photo_pk>/", public_views.estimate_photo, name="estimate-public-photo"),
]
