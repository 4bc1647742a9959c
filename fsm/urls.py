from .pricebook import views as pricebook
from .views import board, jobs, tech

urlpatterns = [*board.urlpatterns, *jobs.urlpatterns, *tech.urlpatterns, *pricebook.urlpatterns]
