"""srsName forms and axis order. The form decides the order, never the request version:
urn:ogc:def:crs:EPSG::n and http://www.opengis.net/def/crs/EPSG/0/n are in EPSG order (lat/lon for
the geographic 4490 and 4326); EPSG:n and http://www.opengis.net/gml/srs/epsg.xml#n are x/y."""

import re
from dataclasses import dataclass

from .exceptions import OWSException

SUPPORTED = (4490, 4326, 3857)
GEOGRAPHIC = {4490, 4326}

_FORMS = [
    (re.compile(r"^EPSG:(\d+)$", re.I | re.A), "short"),
    (re.compile(r"^http://www\.opengis\.net/gml/srs/epsg\.xml#(\d+)$", re.I | re.A), "xml"),
    (re.compile(r"^urn:(?:x-)?ogc:def:crs:EPSG:[0-9.]*:(\d+)$", re.I | re.A), "urn"),
    (re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/[0-9.]+/(\d+)$", re.I | re.A), "uri"),
]
_CRS84 = re.compile(r"^(urn:ogc:def:crs:OGC:1\.3:CRS84|CRS:84|http://www\.opengis\.net/def/crs/OGC/1\.3/CRS84)$", re.I)


@dataclass(frozen=True)
class Crs:
    srid: int
    form: str  # short, xml, urn, uri, crs84

    @property
    def latlon(self) -> bool:
        return self.form in ("urn", "uri") and self.srid in GEOGRAPHIC

    @property
    def name(self) -> str:
        return {
            "short": f"EPSG:{self.srid}",
            "xml": f"http://www.opengis.net/gml/srs/epsg.xml#{self.srid}",
            "urn": f"urn:ogc:def:crs:EPSG::{self.srid}",
            "uri": f"http://www.opengis.net/def/crs/EPSG/0/{self.srid}",
            "crs84": "urn:ogc:def:crs:OGC:1.3:CRS84",
        }[self.form]


def parse(value: str, locator: str = "srsName") -> Crs:
    value = (value or "").strip()
    if _CRS84.match(value):
        return Crs(4326, "crs84")
    for pattern, form in _FORMS:
        m = pattern.match(value)
        if m:
            srid = int(m.group(1))
            if srid not in SUPPORTED:
                break
            return Crs(srid, form)
    raise OWSException(f"unsupported srsName {value!r}: use EPSG 4490, 4326 or 3857", locator=locator)


def default(layer) -> Crs:
    return Crs(layer.srid, "short")
