"""Calls made at the same moment, for the tests that prove two workers (or tabs, or deliveries) never do
the same thing twice: each call runs in its own thread, so on its own database connection, and a barrier
releases them together."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Each call's result, in the order given, once all have finished; the first error any raised is
    raised here (after the others finished, so no thread outlives the test)."""
    barrier, results, errors = threading.Barrier(len(calls)), [None] * len(calls), []

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
