from .estimates import views as estimates
from .invoices import tech_views as collect
from .invoices import views as invoices
from .pricebook import views as pricebook
from .views import board, jobs, tech

urlpatterns = [
    *board.urlpatterns,
    *jobs.urlpatterns,
    *tech.urlpatterns,
    *pricebook.urlpatterns,
    *estimates.urlpatterns,
    *invoices.urlpatterns,
    *collect.urlpatterns,
]
