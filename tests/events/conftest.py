import pytest

from events import registry


class Recorder:
    """A test subscriber: records each event it receives; can be told to fail."""

    def __init__(self):
        self.calls: list[int] = []
        self.failing = False

    def __call__(self, event):
        if self.failing:
            raise RuntimeError("ledger is closed for maintenance")
        self.calls.append(event.pk)


@pytest.fixture
def recorder():
    rec = Recorder()
    registry.subscriber("customer.created", "customer.merged", name="tests.recorder")(rec)
    yield rec
    registry.unsubscribe("tests.recorder")
