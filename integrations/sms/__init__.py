"""Outbound SMS: the worker side of the messaging.Message outbox (backends, the crash-safe send, tasks)."""
