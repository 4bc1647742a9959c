"""Twilio: the webhooks for calls and texts to the business number (docs/channels/twilio-webhooks.md)."""
