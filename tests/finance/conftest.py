from datetime import date
from decimal import Decimal

import pytest

from finance.services import LineIn
from tests.factories import make_customer
from tests.finance.helpers import invoice, payment, post, received

D = Decimal


@pytest.fixture
def books(business, office):
    """Ann (invoices 1 and 3) and Bob (invoice 2):

    2025-12-20  invoice 3 (Ann)     Dr AR 100.00                Cr materials 100.00
    2026-01-05  owner's money       Dr bank 10,000.00           Cr equity 10,000.00
    2026-02-10  invoice 1 (Ann)     Dr AR 1,082.50              Cr service 1,000.00, sales tax 82.50 (8.25%)
    2026-02-20  payment on 1        Dr undeposited 500.00       Cr AR 500.00
    2026-03-01  card fees           Dr card fees 30.00          Cr bank 30.00
    2026-03-15  invoice 2 (Bob)     Dr AR 216.50                Cr service 200.00, sales tax 16.50 (8.25%)
    """
    ann, bob = (
        make_customer(actor=office, first_name="Ann", last_name="Archer"),
        make_customer(actor=office, first_name="Bob", last_name="Baker"),
    )
    invoice(date(2025, 12, 20), "i3", ann.pk, 3, "100.00", role="material_revenue")
    post(date(2026, 1, 5), "own", LineIn("bank", debit=D("10000")), LineIn("equity", credit=D("10000")))
    invoice(date(2026, 2, 10), "i1", ann.pk, 1, "1000.00", "82.50")
    payment(date(2026, 2, 20), "p1", ann.pk, 1, "500.00")
    post(date(2026, 3, 1), "fees", LineIn("card_fees", debit=D("30")), LineIn("bank", credit=D("30")))
    invoice(date(2026, 3, 15), "i2", bob.pk, 2, "200.00", "16.50")
    return {"ann": ann, "bob": bob}


@pytest.fixture
def waiting(business, office):
    """Ann paid 500.00 (check) on Feb 20 and 216.50 (check) on Mar 2; Bob 82.25 (other) on Mar 3 and
    120.00 by card on Mar 4 (card clearing). AR is not invoiced here: only the clearing side matters."""
    ann = make_customer(actor=office, first_name="Ann", last_name="Archer")
    bob = make_customer(actor=office, first_name="Bob", last_name="Baker")
    return {
        "ann": ann,
        "bob": bob,
        "a1": received(date(2026, 2, 20), "p-a1", ann.pk, 1, "500.00"),
        "a2": received(date(2026, 3, 2), "p-a2", ann.pk, 1, "216.50"),
        "b1": received(date(2026, 3, 3), "p-b1", bob.pk, 2, "82.25"),
        "card": received(date(2026, 3, 4), "p-c1", bob.pk, 2, "120.00", role="card_clearing"),
    }
