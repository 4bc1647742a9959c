from .views import board, jobs, tech

urlpatterns = [*board.urlpatterns, *jobs.urlpatterns, *tech.urlpatterns]
