"""The errors fsm services raise, all in the ApplicationError family (views: form errors; API: 4xx JSON)."""

from common.errors import ApplicationError, Conflict


class Forbidden(ApplicationError):
    """The actor's role (or not being on the job's crew) does not allow this. HTTP 403."""

    status_code = 403

    def __init__(self, message: str = "You cannot do this on this job.", **kwargs):
        kwargs.setdefault("code", "forbidden")
        super().__init__(message, **kwargs)


class SchedulingConflict(Conflict):
    """A visit would overlap another visit of the same technician. HTTP 409, code "conflict".

    `conflicts` holds every conflict found (the overlaps and the warnings), as `ScheduleConflict`
    objects; `as_dict()` adds them as `"conflicts": [{"code", "message", ...}]`. Show them and offer
    "save anyway", which calls the same service again with `confirm=True`.
    """

    def __init__(self, conflicts: list):
        self.conflicts = list(conflicts)
        overlaps = [c for c in self.conflicts if c.blocking]
        message = overlaps[0].message if len(overlaps) == 1 else f"{len(overlaps)} overlapping visits."
        super().__init__(
            message,
            field="start",
            code="conflict",
            extra={"conflicts": [c.as_dict() for c in self.conflicts]},
        )
