"""One request object from KVP (GET or form POST) or an XML POST body: service, operation, version."""

from dataclasses import dataclass, field

from .exceptions import OWSException
from .xmlsafe import local, ns, parse

VERSIONS = ("2.0.0", "1.1.0", "1.0.0")
WFS20_NS = "http://www.opengis.net/wfs/2.0"
WFS1_NS = "http://www.opengis.net/wfs"


@dataclass
class OWSRequest:
    service: str
    operation: str
    version: str
    params: dict = field(default_factory=dict)  # KVP, upper-case keys
    xml: object = None  # root element for XML requests


def negotiate(accept: str | None, version: str | None) -> str:
    if accept:
        for v in (a.strip() for a in accept.split(",")):
            if v in VERSIONS:
                return v
        raise OWSException(
            f"none of the versions {accept} is supported (2.0.0, 1.1.0, 1.0.0)",
            code="VersionNegotiationFailed",
            locator="AcceptVersions",
        )
    if version:
        v = version.strip()
        if v in VERSIONS:
            return v
        # WFS 1.x clients may send 1.1 / 1.0: map a prefix, else the highest.
        for known in VERSIONS:
            if known.startswith(v):
                return known
    return VERSIONS[0]


def from_kvp(query) -> OWSRequest:
    params = {k.upper(): v for k, v in query.items()}
    op = params.get("REQUEST", "")
    service = params.get("SERVICE", "").upper()
    if op.lower() == "getcapabilities":
        version = negotiate(params.get("ACCEPTVERSIONS"), params.get("VERSION"))
    else:
        version = negotiate(None, params.get("VERSION"))
    return OWSRequest(service=service, operation=op, version=version, params=params)


def from_xml(body: bytes) -> OWSRequest:
    root = parse(body)
    op = local(root.tag)
    version = root.get("version")
    namespace = ns(root.tag)
    if op == "GetCapabilities":
        accept = [v.text.strip() for v in root.iter() if local(v.tag) == "Version" and v.text]
        version = negotiate(",".join(accept) if accept else None, version)
    elif namespace == WFS20_NS:
        version = "2.0.0"
    elif namespace == WFS1_NS:
        version = "1.0.0" if version == "1.0.0" else "1.1.0"
    else:
        version = negotiate(None, version)
    return OWSRequest(service=(root.get("service") or "").upper(), operation=op, version=version, xml=root)
