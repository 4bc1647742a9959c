"""CSV imports of customers and open leads (Jobber, Housecall Pro, ServiceTitan, spreadsheets).

See docs/channels/import.md. Pages in views.py, the work in services.py, the tasks in tasks.py.
"""
