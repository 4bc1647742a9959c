"""The office's job pages: list, detail, booking from a customer, equipment."""

urlpatterns = []
