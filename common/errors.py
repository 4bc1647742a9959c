"""One error family for domain rules. Views turn it into form errors, the API into a 400 JSON body."""


class ApplicationError(Exception):
    """A business rule refused the operation. `field` names the input at fault, when there is one."""

    status_code = 400

    def __init__(
        self, message: str, *, field: str | None = None, code: str = "invalid", extra: dict | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.extra = extra or {}

    def as_dict(self) -> dict:
        body = {"detail": self.message, "code": self.code}
        if self.field:
            body["errors"] = {self.field: [self.message]}
        body.update(self.extra)
        return body


class NotFound(ApplicationError):
    status_code = 404


class Conflict(ApplicationError):
    status_code = 409
