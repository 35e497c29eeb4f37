"""Domain errors; functions/api.py maps each class to one HTTP status."""


class ApiError(Exception):
    """Base class: `field` names the offending input (None when it is the whole request)."""

    def __init__(self, message: str, field: str | None = None, errors: list | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors  # ItemError per bad item of a list, when it is particular items


class InvalidInput(ApiError):
    """The request is well-formed JSON but a value is not acceptable."""


class PayloadTooLarge(ApiError):
    """The body is larger than the API accepts."""


class Forbidden(ApiError):
    """The API key is unknown, or the device may not do this."""


class NotFound(ApiError):
    """The thing asked for does not exist (yet)."""


class Unavailable(ApiError):
    """A store kept refusing the write (contention); the client should retry later."""
