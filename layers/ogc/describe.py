"""DescribeFeatureType: an XML Schema per version (GML 3.2 for 2.0, 3.1.1 for 1.1, GML 2 for 1.0),
properties typed from the catalogue, the geometry property named `geometry`."""

from xml.sax.saxutils import quoteattr

from django.http import HttpResponse

from layers import catalogue

from .common import NS, PREFIX, XSD_TYPES, gml_ns, layers_for
from .filters import GEOMETRY_NAME

GML_LOCATIONS = {
    "2.0.0": "http://schemas.opengis.net/gml/3.2.1/gml.xsd",
    "1.1.0": "http://schemas.opengis.net/gml/3.1.1/base/gml.xsd",
    "1.0.0": "http://schemas.opengis.net/gml/2.1.2/feature.xsd",
}
GML3_TYPES = {
    "MultiPolygon": "MultiSurfacePropertyType",
    "Polygon": "SurfacePropertyType",
    "MultiLineString": "MultiCurvePropertyType",
    "LineString": "CurvePropertyType",
    "Point": "PointPropertyType",
    "MultiPoint": "MultiPointPropertyType",
}
GML2_TYPES = {
    "MultiPolygon": "MultiPolygonPropertyType",
    "Polygon": "PolygonPropertyType",
    "MultiLineString": "MultiLineStringPropertyType",
    "LineString": "LineStringPropertyType",
    "Point": "PointPropertyType",
    "MultiPoint": "MultiPointPropertyType",
}


def geometry_type(layer, version: str) -> str:
    table = GML2_TYPES if version == "1.0.0" else GML3_TYPES
    return "gml:" + table.get(layer.geometry_type, "GeometryPropertyType")


def schema(layers, version: str) -> str:
    substitution = "gml:AbstractFeature" if version == "2.0.0" else "gml:_Feature"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:gml="{gml_ns(version)}" '
        f'xmlns:{PREFIX}="{NS}" targetNamespace="{NS}" elementFormDefault="qualified" version="1.0">',
        f'<xsd:import namespace="{gml_ns(version)}" schemaLocation="{GML_LOCATIONS[version]}"/>',
    ]
    for layer in layers:
        out.append(
            f'<xsd:complexType name="{layer.id}Type"><xsd:complexContent>'
            '<xsd:extension base="gml:AbstractFeatureType"><xsd:sequence>'
        )
        for prop in layer.properties:
            nillable = ' nillable="true"' if prop.nullable else ""
            out.append(
                f'<xsd:element name="{prop.name}" type="xsd:{XSD_TYPES.get(prop.type, "string")}" '
                f'minOccurs="0"{nillable}>'
                f"<xsd:annotation><xsd:documentation>{_esc(prop.title)}</xsd:documentation></xsd:annotation>"
                "</xsd:element>"
            )
        out.append(
            f'<xsd:element name="{GEOMETRY_NAME}" type="{geometry_type(layer, version)}" minOccurs="0" '
            'nillable="true"/>'
        )
        out.append("</xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>")
        out.append(
            f'<xsd:element name="{layer.id}" type="{PREFIX}:{layer.id}Type" substitutionGroup="{substitution}"/>'
        )
    out.append("</xsd:schema>")
    return "".join(out)


def _esc(s: str) -> str:
    return quoteattr(s or "")[1:-1]


def describe_feature_type(request, ows_request, user):
    params = ows_request.params
    if ows_request.xml is not None:
        from .xmlsafe import children, text

        names = ",".join(text(c) for c in children(ows_request.xml, "TypeName"))
    else:
        names = params.get("TYPENAMES") or params.get("TYPENAME") or ""
    layers = layers_for(names) if names.strip() else catalogue.layers()
    content_type = (
        "application/gml+xml; version=3.2"
        if ows_request.version == "2.0.0"
        else "text/xml; subtype=gml/3.1.1"
        if ows_request.version == "1.1.0"
        else "text/xml"
    )
    return HttpResponse(schema(layers, ows_request.version), content_type=content_type)
