"""OWS exceptions, in the schema of the request's version: ows 1.1 (WFS 2.0), ows 1.0 (WFS 1.1),
ServiceExceptionReport (WFS 1.0). The report element carries a default namespace (no prefix): QGIS
compares tag names without resolving prefixes."""

from xml.sax.saxutils import escape, quoteattr

from django.http import HttpResponse

from gis_core.auth import add_auth_headers
from gis_core.errors import ClientError
from gis_core.text import xml_safe


class OWSException(ClientError):
    """Rendered as an OWS ExceptionReport by report_response(); `locator` names the parameter."""

    def __init__(
        self,
        text: str,
        code: str = "InvalidParameterValue",
        locator: str = "",
        status: int = 400,
        retry_after: int | None = None,
    ):
        super().__init__(text, field=locator or None, status=status, retry_after=retry_after)
        self.text = text
        self.code = code
        self.locator = locator


class Unauthorized(OWSException):
    """401, or 429 with retry_after when too many logins failed."""

    def __init__(self, text="authentication required (HTTP Basic)", status: int = 401, retry_after: int | None = None):
        super().__init__(text, code="NoApplicableCode", locator="Authorization", status=status)
        self.retry_after = retry_after


def report_xml(exc: OWSException, version: str) -> str:
    loc = f" locator={quoteattr(xml_safe(exc.locator))}" if exc.locator else ""
    text = escape(xml_safe(exc.text))
    if version == "1.0.0":
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ServiceExceptionReport version="1.2.0" xmlns="http://www.opengis.net/ogc">'
            f"<ServiceException code={quoteattr(exc.code)}{loc}>{text}</ServiceException>"
            "</ServiceExceptionReport>"
        )
    if version == "1.1.0":
        ns, ows_version, lang = "http://www.opengis.net/ows", "1.0.0", 'language="en"'
    else:
        ns, ows_version, lang = "http://www.opengis.net/ows/1.1", "2.0.0", 'xml:lang="en"'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ExceptionReport xmlns="{ns}" version="{ows_version}" {lang}>'
        f"<Exception exceptionCode={quoteattr(exc.code)}{loc}><ExceptionText>{text}</ExceptionText></Exception>"
        "</ExceptionReport>"
    )


def report_response(exc: OWSException, version: str) -> HttpResponse:
    response = HttpResponse(report_xml(exc, version), status=exc.status, content_type="application/xml; charset=utf-8")
    return add_auth_headers(response, getattr(exc, "retry_after", None))
