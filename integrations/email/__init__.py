"""E-mail as a conversation channel: an outbox sent by a worker (services, tasks) and Postmark's inbound
webhook through django-anymail (inbound, urls)."""
