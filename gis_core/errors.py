"""The one error base: a request or change refused because of what the client sent. Nothing was
written. Each protocol renders it in its own form: REST as JSON (gis_core.api_errors), WFS as an OWS
ExceptionReport, WMS as a ServiceExceptionReport, tiles as a plain 4xx."""


class ClientError(Exception):
    """`message` says what is wrong; `field` names the parameter, property or field at fault."""

    status = 400
    retry_after: int | None = None  # seconds, sent as Retry-After (429, 503)

    def __init__(
        self, message: str, *, field: str | None = None, status: int | None = None, retry_after: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        if retry_after is not None:
            self.retry_after = retry_after


class ServiceError(ClientError):
    """A change refused by a service (the one write path of an entity): `errors` maps field -> reason."""

    def __init__(self, errors: dict[str, str] | str, field: str | None = None):
        if isinstance(errors, str):
            errors = {field or "non_field_errors": errors}
        self.errors = errors
        first = next(iter(errors), None)
        super().__init__(
            "; ".join(f"{k}: {v}" for k, v in errors.items()), field=first if first != "non_field_errors" else None
        )
