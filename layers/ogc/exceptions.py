"""OWS exceptions, in the schema of the request's version: ows 1.1 (WFS 2.0), ows 1.0 (WFS 1.1),
ServiceExceptionReport (WFS 1.0). The report element carries a default namespace (no prefix): QGIS
compares tag names without resolving prefixes."""
from xml.sax.saxutils import escape, quoteattr

from django.http import HttpResponse


class OWSException(Exception):
    def __init__(self, text: str, code: str = "InvalidParameterValue", locator: str = "", status: int = 400,
                 retry_after: int | None = None):
        super().__init__(text)
        self.text = text
        self.code = code
        self.locator = locator
        self.status = status
        self.retry_after = retry_after  # seconds, sent as Retry-After (429, 503)


class Unauthorized(OWSException):
    def __init__(self, text="authentication required (HTTP Basic)"):
        super().__init__(text, code="NoApplicableCode", locator="Authorization", status=401)


def report_xml(exc: OWSException, version: str) -> str:
    loc = f" locator={quoteattr(exc.locator)}" if exc.locator else ""
    text = escape(exc.text)
    if version == "1.0.0":
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<ServiceExceptionReport version="1.2.0" xmlns="http://www.opengis.net/ogc">'
                f'<ServiceException code={quoteattr(exc.code)}{loc}>{text}</ServiceException>'
                '</ServiceExceptionReport>')
    if version == "1.1.0":
        ns, ows_version, lang = "http://www.opengis.net/ows", "1.0.0", 'language="en"'
    else:
        ns, ows_version, lang = "http://www.opengis.net/ows/1.1", "2.0.0", 'xml:lang="en"'
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ExceptionReport xmlns="{ns}" version="{ows_version}" {lang}>'
            f'<Exception exceptionCode={quoteattr(exc.code)}{loc}><ExceptionText>{text}</ExceptionText></Exception>'
            '</ExceptionReport>')


def report_response(exc: OWSException, version: str) -> HttpResponse:
    response = HttpResponse(report_xml(exc, version), status=exc.status,
                            content_type="application/xml; charset=utf-8")
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="gridcity", charset="UTF-8"'
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response
