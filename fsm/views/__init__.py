"""Field service pages, one module per audience: the dispatch board (board), the office's job pages
(jobs) and the technician's phone (tech). Each module lists its own `urlpatterns`; fsm/urls.py joins them."""
