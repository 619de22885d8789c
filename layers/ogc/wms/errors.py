"""WMS 1.3.0 ServiceExceptionReport (exceptions_1_3_0.xsd), the answer to every failed request.
Codes are the standard's (InvalidFormat, InvalidCRS, LayerNotDefined, StyleNotDefined,
LayerNotQueryable, InvalidPoint, OperationNotSupported) or, with no standard code, the OWS
MissingParameterValue / InvalidParameterValue."""
from xml.sax.saxutils import escape, quoteattr

from django.http import HttpResponse

OGC_NS = "http://www.opengis.net/ogc"
SCHEMA = "http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd"


class WMSError(Exception):
    def __init__(self, text: str, code: str = "InvalidParameterValue", locator: str = "", status: int = 400,
                 retry_after: int | None = None):
        super().__init__(text)
        self.text, self.code, self.locator, self.status = text, code, locator, status
        self.retry_after = retry_after  # seconds, sent as Retry-After (429, 503)


def missing(name: str) -> WMSError:
    return WMSError(f"{name} is required", "MissingParameterValue", name)


def report(exc: WMSError) -> HttpResponse:
    code = f" code={quoteattr(exc.code)}" if exc.code else ""
    locator = f" locator={quoteattr(exc.locator)}" if exc.locator else ""
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ServiceExceptionReport version="1.3.0" xmlns="{OGC_NS}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{OGC_NS} {SCHEMA}">'
            f'<ServiceException{code}{locator}>{escape(exc.text)}</ServiceException>'
            '</ServiceExceptionReport>')
    response = HttpResponse(body, status=exc.status, content_type="text/xml; charset=utf-8")
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="gridcity", charset="UTF-8"'
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response
