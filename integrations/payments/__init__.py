"""Online card payments through Stripe Checkout: the edge, and nothing else.

    stripe_gateway.py   the official SDK: a Checkout Session for an invoice's balance; the webhook's
                        signature check (`Stripe-Signature`, STRIPE_WEBHOOK_SECRET)
    services.py         a verified event, handled once per event id (`StripeEvent`), then
                        fsm.invoices.services.payment_record, which pays once per session
    views.py            POST /integrations/stripe/pay/<token>/ (from the public invoice page) and
                        POST /integrations/stripe/webhook/ (from Stripe)

A payment is recorded by the signed webhook only, never by the customer's browser coming back.
"""
