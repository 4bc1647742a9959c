from django.urls import path

from . import views

app_name = "finance"

urlpatterns = [
    path("", views.hub, name="hub"),
    path("trial-balance/", views.trial_balance, name="trial-balance"),
    path("profit-and-loss/", views.profit_and_loss, name="profit-and-loss"),
    path("balance-sheet/", views.balance_sheet, name="balance-sheet"),
    path("ledger/<str:code>/", views.ledger, name="ledger"),
    path("ar-aging/", views.ar_aging, name="ar-aging"),
    path("sales-tax/", views.sales_tax, name="sales-tax"),
    path("export/quickbooks.csv", views.export, {"target": "quickbooks"}, name="export-quickbooks"),
    path("export/xero.csv", views.export, {"target": "xero"}, name="export-xero"),
    path("periods/", views.periods, name="periods"),
    path("journal/", views.journal, name="journal"),
    path("journal/new/", views.journal_new, name="journal-new"),
    path("journal/<int:pk>/reverse/", views.journal_reverse, name="journal-reverse"),
    path("deposits/", views.deposits, name="deposits"),
    path("deposits/new/", views.deposit_new, name="deposit-new"),
    path("deposits/<int:pk>/undo/", views.deposit_undo, name="deposit-undo"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account_action, name="account-action"),
]
