"""Mounted at /forms/ with no namespace: what customers' websites load and post to."""

import uuid

from django.urls import path, register_converter

from . import public_views


class PublicIdConverter:
    """A web form's public id. Anything that is not a UUID resolves to no form (404), never an error.

    Looser than Django's `uuid` converter on purpose: the URL walk (tests/test_access.py) reverses every
    URL with a sample integer and expects an answer rather than NoReverseMatch.
    """

    regex = "[^/]+"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)  # ValueError: the URL does not match

    def to_url(self, value) -> str:
        return str(value)


register_converter(PublicIdConverter, "webform_id")

urlpatterns = [
    path("<webform_id:public_id>/", public_views.webform_public, name="webform-public"),
    path("<webform_id:public_id>/embed.js", public_views.webform_embed_js, name="webform-embed-js"),
]
