from .estimates import views as estimates
from .views import board, jobs, tech

urlpatterns = [*board.urlpatterns, *jobs.urlpatterns, *tech.urlpatterns, *estimates.urlpatterns]
