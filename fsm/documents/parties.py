"""Who a document is for, as estimates and invoices both need it: the sales tax that applies, and where
its link is sent."""

from decimal import Decimal

from customers.models import Customer, Property
from customers.selectors import tax_exemption
from users.models import TaxRate


def tax_for(customer: Customer, prop: Property | None) -> tuple[TaxRate | None, Decimal, str]:
    """(the rate, its percent, why none applies): the default rate unless the customer or the
    property is exempt (customers.selectors.tax_exemption says why, as the document prints it)."""
    if reason := tax_exemption(customer, prop):
        return None, Decimal("0"), reason
    rate = TaxRate.default()
    return rate, (rate.percent if rate else Decimal("0")), ""


def customer_contacts(customer: Customer) -> tuple[str, str]:
    """(the mobile to text, the e-mail address): a mobile and the primary first; "" when none. The
    outbox itself refuses a landline or an opted-out number."""
    phones = sorted(customer.phones.all(), key=lambda p: (p.kind != "mobile", not p.is_primary))
    mobile = next(iter(phones), None)
    emails = list(customer.emails.all())
    return (str(mobile.number) if mobile else ""), (emails[0].email if emails else "")
