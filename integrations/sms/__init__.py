"""Outbound SMS: the worker side of the crm.Message outbox (backends, the crash-safe send, tasks)."""
