"""A fixed-window rate limit on Django's cache: `"5/m"` is five hits per key per clock minute.

The counter is one cache key per (key, window), created with `add` and counted with `incr`, both atomic in
Redis and in the local-memory cache, so concurrent workers never lose a hit.
"""

import re
import time

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

PERIODS = {"s": 1, "m": 60, "h": 3600}


def rate_parse(rate: str) -> tuple[int, int]:
    """`"5/m"` -> (5, 60): hits allowed and the window in seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([smh])\s*", rate or "")
    if not match:
        raise ImproperlyConfigured(f"Rate {rate!r} is not of the form N/s, N/m or N/h.")
    return int(match[1]), PERIODS[match[2]]


def rate_exceeded(*, key: str, rate: str) -> bool:
    """Count one hit for `key`; True when it goes over `rate` in the current window."""
    allowed, seconds = rate_parse(rate)
    window = int(time.time() // seconds)
    cache_key = f"ratelimit:{key}:{window}"
    cache.add(cache_key, 0, timeout=seconds + 5)
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=seconds + 5)
        hits = 1
    return hits > allowed
