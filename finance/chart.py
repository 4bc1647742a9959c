"""The default chart of accounts for a US home-service business: (code, name, kind, role, parent code).
Roles are what the posting rules look accounts up by; the owner may rename or add accounts."""

DEFAULT_ACCOUNTS = [
    ("1000", "Cash and cash equivalents", "asset", None, None),
    ("1010", "Cash on hand", "asset", "cash", "1000"),
    ("1020", "Undeposited funds", "asset", "undeposited", "1000"),
    ("1030", "Card clearing", "asset", "card_clearing", "1000"),
    ("1040", "Business checking", "asset", "bank", "1000"),
    ("1200", "Accounts receivable", "asset", "ar", None),
    ("1300", "Inventory", "asset", "inventory", None),
    ("2100", "Sales tax payable", "liability", "sales_tax", None),
    ("2200", "Customer credits and deposits", "liability", "customer_credit", None),
    ("3000", "Owner's equity", "equity", "equity", None),
    ("4000", "Sales", "revenue", None, None),
    ("4010", "Service revenue", "revenue", "service_revenue", "4000"),
    ("4020", "Equipment revenue", "revenue", "equipment_revenue", "4000"),
    ("4030", "Materials revenue", "revenue", "material_revenue", "4000"),
    ("4900", "Discounts given", "revenue", "discounts", "4000"),
    ("4910", "Refunds and credits", "revenue", "refunds", "4000"),
    ("6100", "Card processing fees", "expense", "card_fees", None),
]
