"""WMS 1.3.0 ServiceExceptionReport (exceptions_1_3_0.xsd), the answer to every failed request.
Codes are the standard's (InvalidFormat, InvalidCRS, LayerNotDefined, StyleNotDefined,
LayerNotQueryable, InvalidPoint, OperationNotSupported) or, with no standard code, the OWS
MissingParameterValue / InvalidParameterValue."""

from xml.sax.saxutils import escape, quoteattr

from django.http import HttpResponse

from gis_core.auth import add_auth_headers
from gis_core.errors import ClientError
from gis_core.text import xml_safe

OGC_NS = "http://www.opengis.net/ogc"
SCHEMA = "http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd"


class WMSError(ClientError):
    """Rendered as a WMS 1.3.0 ServiceExceptionReport by report(); `locator` names the parameter."""

    def __init__(
        self,
        text: str,
        code: str = "InvalidParameterValue",
        locator: str = "",
        status: int = 400,
        retry_after: int | None = None,
    ):
        super().__init__(text, field=locator or None, status=status, retry_after=retry_after)
        self.text, self.code, self.locator = text, code, locator


def missing(name: str) -> WMSError:
    return WMSError(f"{name} is required", "MissingParameterValue", name)


def report(exc: WMSError) -> HttpResponse:
    code = f" code={quoteattr(xml_safe(exc.code))}" if exc.code else ""
    locator = f" locator={quoteattr(xml_safe(exc.locator))}" if exc.locator else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ServiceExceptionReport version="1.3.0" xmlns="{OGC_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{OGC_NS} {SCHEMA}">'
        f"<ServiceException{code}{locator}>{escape(xml_safe(exc.text))}</ServiceException>"
        "</ServiceExceptionReport>"
    )
    response = HttpResponse(body, status=exc.status, content_type="text/xml; charset=utf-8")
    return add_auth_headers(response, exc.retry_after)
