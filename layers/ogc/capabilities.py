"""GetCapabilities for 2.0.0, 1.1.0 and 1.0.0. Transaction (and in 2.0 ImplementsTransactionalWFS)
is advertised only to a user who may edit: QGIS turns editing on for every type when it sees it.
DefaultCRS/DefaultSRS use the EPSG:n form, so clients work in x/y order."""

from xml.sax.saxutils import escape, quoteattr

from django.contrib.gis.db.models import Extent
from django.http import HttpResponse

from layers import catalogue

from .common import NS, PREFIX, service_url
from .crs import SUPPORTED

TITLE = "GridCity WFS 网格化管理"
ABSTRACT = "城市网格化管理: every feature type of the GridCity layer catalogue."
OUTPUT_FORMATS = {
    "2.0.0": ["application/gml+xml; version=3.2", "application/json"],
    "1.1.0": ["text/xml; subtype=gml/3.1.1", "application/json"],
    "1.0.0": ["GML2", "application/json"],
}
SPATIAL_OPS = ["BBOX", "Equals", "Disjoint", "Intersects", "Touches", "Crosses", "Within", "Contains", "Overlaps"]
COMPARISON_OPS_11 = [
    "LessThan",
    "GreaterThan",
    "LessThanEqualTo",
    "GreaterThanEqualTo",
    "EqualTo",
    "NotEqualTo",
    "Like",
    "Between",
    "NullCheck",
]
COMPARISON_OPS_20 = [
    "PropertyIsEqualTo",
    "PropertyIsNotEqualTo",
    "PropertyIsLessThan",
    "PropertyIsGreaterThan",
    "PropertyIsLessThanOrEqualTo",
    "PropertyIsGreaterThanOrEqualTo",
    "PropertyIsLike",
    "PropertyIsNull",
    "PropertyIsBetween",
]


def _e(s) -> str:
    return escape(str(s or ""))


def _a(s) -> str:
    return quoteattr(str(s or ""))


def _extent(layer, user):
    try:
        ext = layer.queryset(user).aggregate(e=Extent(layer.geometry_field))["e"]
    except Exception:  # noqa: BLE001 - an extent is informative only
        ext = None
    return ext or (-180.0, -90.0, 180.0, 90.0)


def _visible(user):
    return [layer for layer in catalogue.layers()]


def _editable(layer, user) -> bool:
    return layer.editable and user is not None and bool(layer.can_edit(user))


def _operation(name, url, extra=""):
    return (
        f'<ows:Operation name="{name}"><ows:DCP><ows:HTTP><ows:Get xlink:href={_a(url + "?")}/>'
        f"<ows:Post xlink:href={_a(url)}/></ows:HTTP></ows:DCP>{extra}</ows:Operation>"
    )


def _param(name, values):
    return (
        f'<ows:Parameter name="{name}"><ows:AllowedValues>'
        + "".join(f"<ows:Value>{_e(v)}</ows:Value>" for v in values)
        + "</ows:AllowedValues></ows:Parameter>"
    )


def _param10(name, values):  # OWS 1.0: no AllowedValues wrapper
    return (
        f'<ows:Parameter name="{name}">'
        + "".join(f"<ows:Value>{_e(v)}</ows:Value>" for v in values)
        + "</ows:Parameter>"
    )


def _constraint(name, value):
    return f'<ows:Constraint name="{name}"><ows:NoValues/><ows:DefaultValue>{value}</ows:DefaultValue></ows:Constraint>'


def _keywords(layer):
    if not layer.keywords:
        return ""
    return "<ows:Keywords>" + "".join(f"<ows:Keyword>{_e(k)}</ows:Keyword>" for k in layer.keywords) + "</ows:Keywords>"


def caps_20(url, user):
    layers = _visible(user)
    transactional = any(_editable(layer, user) for layer in layers)
    ops = [
        _operation(
            "GetCapabilities",
            url,
            _param("AcceptVersions", ["2.0.0", "1.1.0", "1.0.0"]) + _param("AcceptFormats", ["text/xml"]),
        ),
        _operation("DescribeFeatureType", url),
        _operation(
            "GetFeature",
            url,
            _param("outputFormat", OUTPUT_FORMATS["2.0.0"]) + _param("resultType", ["results", "hits"]),
        ),
    ]
    if transactional:
        ops.append(
            _operation(
                "Transaction",
                url,
                _param("inputFormat", ["application/gml+xml; version=3.2", "text/xml; subtype=gml/3.1.1"]),
            )
        )
    constraints = [
        _constraint("ImplementsBasicWFS", "TRUE"),
        _constraint("ImplementsTransactionalWFS", "TRUE" if transactional else "FALSE"),
        _constraint("ImplementsLockingWFS", "FALSE"),
        _constraint("KVPEncoding", "TRUE"),
        _constraint("XMLEncoding", "TRUE"),
        _constraint("SOAPEncoding", "FALSE"),
        _constraint("ImplementsInheritance", "FALSE"),
        _constraint("ImplementsRemoteResolve", "FALSE"),
        _constraint("ImplementsResultPaging", "TRUE"),
        _constraint("ImplementsStandardJoins", "FALSE"),
        _constraint("ImplementsSpatialJoins", "FALSE"),
        _constraint("ImplementsTemporalJoins", "FALSE"),
        _constraint("ImplementsFeatureVersioning", "FALSE"),
        _constraint("ManageStoredQueries", "FALSE"),
        '<ows:Constraint name="CountDefault"><ows:NoValues/><ows:DefaultValue>100000</ows:DefaultValue></ows:Constraint>',
    ]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<wfs:WFS_Capabilities version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" '
        'xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" '
        f'xmlns:{PREFIX}="{NS}">',
        f"<ows:ServiceIdentification><ows:Title>{_e(TITLE)}</ows:Title><ows:Abstract>{_e(ABSTRACT)}</ows:Abstract>"
        "<ows:ServiceType>WFS</ows:ServiceType><ows:ServiceTypeVersion>2.0.0</ows:ServiceTypeVersion>"
        "<ows:ServiceTypeVersion>1.1.0</ows:ServiceTypeVersion><ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>"
        "<ows:Fees>NONE</ows:Fees><ows:AccessConstraints>HTTP Basic authentication</ows:AccessConstraints>"
        "</ows:ServiceIdentification>",
        "<ows:ServiceProvider><ows:ProviderName>GridCity</ows:ProviderName><ows:ServiceContact/></ows:ServiceProvider>",
        "<ows:OperationsMetadata>",
        *ops,
        *constraints,
        "</ows:OperationsMetadata>",
        "<wfs:FeatureTypeList>",
    ]
    for layer in layers:
        x0, y0, x1, y1 = _extent(layer, user)
        out.append(
            f"<wfs:FeatureType><wfs:Name>{PREFIX}:{layer.id}</wfs:Name>"
            f"<wfs:Title>{_e(layer.title_zh)} {_e(layer.title_en)}</wfs:Title>"
            f"<wfs:Abstract>{_e(layer.abstract)}</wfs:Abstract>{_keywords(layer)}"
            f"<wfs:DefaultCRS>EPSG:{layer.srid}</wfs:DefaultCRS>"
            + "".join(f"<wfs:OtherCRS>EPSG:{s}</wfs:OtherCRS>" for s in SUPPORTED if s != layer.srid)
            + "<wfs:OutputFormats>"
            + "".join(f"<wfs:Format>{_e(f)}</wfs:Format>" for f in OUTPUT_FORMATS["2.0.0"])
            + f"</wfs:OutputFormats><ows:WGS84BoundingBox><ows:LowerCorner>{x0} {y0}</ows:LowerCorner>"
            f"<ows:UpperCorner>{x1} {y1}</ows:UpperCorner></ows:WGS84BoundingBox></wfs:FeatureType>"
        )
    out.append("</wfs:FeatureTypeList>")
    conformance = {
        "ImplementsQuery": "TRUE",
        "ImplementsAdHocQuery": "TRUE",
        "ImplementsFunctions": "FALSE",
        "ImplementsResourceId": "TRUE",
        "ImplementsMinStandardFilter": "TRUE",
        "ImplementsStandardFilter": "TRUE",
        "ImplementsMinSpatialFilter": "TRUE",
        "ImplementsSpatialFilter": "TRUE",
        "ImplementsMinTemporalFilter": "FALSE",
        "ImplementsTemporalFilter": "FALSE",
        "ImplementsVersionNav": "FALSE",
        "ImplementsSorting": "FALSE",
        "ImplementsExtendedOperators": "FALSE",
        "ImplementsMinimumXPath": "FALSE",
        "ImplementsSchemaElementFunc": "FALSE",
    }
    out.append(
        "<fes:Filter_Capabilities><fes:Conformance>"
        + "".join(_constraint(k, v).replace("ows:Constraint", "fes:Constraint") for k, v in conformance.items())
        + "</fes:Conformance>"
        '<fes:Id_Capabilities><fes:ResourceIdentifier name="fes:ResourceId"/></fes:Id_Capabilities>'
        "<fes:Scalar_Capabilities><fes:LogicalOperators/><fes:ComparisonOperators>"
        + "".join(f'<fes:ComparisonOperator name="{o}"/>' for o in COMPARISON_OPS_20)
        + "</fes:ComparisonOperators></fes:Scalar_Capabilities>"
        "<fes:Spatial_Capabilities><fes:GeometryOperands>"
        '<fes:GeometryOperand name="gml:Envelope"/><fes:GeometryOperand name="gml:Point"/>'
        '<fes:GeometryOperand name="gml:LineString"/><fes:GeometryOperand name="gml:Polygon"/>'
        '<fes:GeometryOperand name="gml:MultiSurface"/></fes:GeometryOperands><fes:SpatialOperators>'
        + "".join(f'<fes:SpatialOperator name="{o}"/>' for o in SPATIAL_OPS)
        + "</fes:SpatialOperators></fes:Spatial_Capabilities></fes:Filter_Capabilities>"
    )
    out.append("</wfs:WFS_Capabilities>")
    return "".join(out)


def caps_11(url, user):
    layers = _visible(user)
    transactional = any(_editable(layer, user) for layer in layers)
    ops = [
        _operation("GetCapabilities", url, _param10("AcceptVersions", ["1.1.0", "1.0.0", "2.0.0"])),
        _operation("DescribeFeatureType", url, _param10("outputFormat", ["text/xml; subtype=gml/3.1.1"])),
        _operation(
            "GetFeature",
            url,
            _param10("resultType", ["results", "hits"]) + _param10("outputFormat", OUTPUT_FORMATS["1.1.0"]),
        ),
    ]
    if transactional:
        ops.append(_operation("Transaction", url, _param10("inputFormat", ["text/xml; subtype=gml/3.1.1"])))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<wfs:WFS_Capabilities version="1.1.0" xmlns:wfs="http://www.opengis.net/wfs" '
        'xmlns:ows="http://www.opengis.net/ows" xmlns:ogc="http://www.opengis.net/ogc" '
        'xmlns:gml="http://www.opengis.net/gml" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'xmlns:{PREFIX}="{NS}">',
        f"<ows:ServiceIdentification><ows:Title>{_e(TITLE)}</ows:Title><ows:Abstract>{_e(ABSTRACT)}</ows:Abstract>"
        "<ows:ServiceType>WFS</ows:ServiceType><ows:ServiceTypeVersion>1.1.0</ows:ServiceTypeVersion>"
        "<ows:Fees>NONE</ows:Fees><ows:AccessConstraints>HTTP Basic authentication</ows:AccessConstraints>"
        "</ows:ServiceIdentification>",
        "<ows:ServiceProvider><ows:ProviderName>GridCity</ows:ProviderName><ows:ServiceContact/></ows:ServiceProvider>",
        "<ows:OperationsMetadata>",
        *ops,
        "</ows:OperationsMetadata>",
        "<wfs:FeatureTypeList><wfs:Operations><wfs:Operation>Query</wfs:Operation></wfs:Operations>",
    ]
    for layer in layers:
        x0, y0, x1, y1 = _extent(layer, user)
        editable = _editable(layer, user)
        operations = ["Query"] + (["Insert", "Update", "Delete"] if editable else [])
        out.append(
            f"<wfs:FeatureType><wfs:Name>{PREFIX}:{layer.id}</wfs:Name>"
            f"<wfs:Title>{_e(layer.title_zh)} {_e(layer.title_en)}</wfs:Title>"
            f"<wfs:Abstract>{_e(layer.abstract)}</wfs:Abstract>{_keywords(layer)}"
            f"<wfs:DefaultSRS>EPSG:{layer.srid}</wfs:DefaultSRS>"
            + "".join(f"<wfs:OtherSRS>EPSG:{s}</wfs:OtherSRS>" for s in SUPPORTED if s != layer.srid)
            + "<wfs:Operations>"
            + "".join(f"<wfs:Operation>{o}</wfs:Operation>" for o in operations)
            + "</wfs:Operations><wfs:OutputFormats>"
            + "".join(f"<wfs:Format>{_e(f)}</wfs:Format>" for f in OUTPUT_FORMATS["1.1.0"])
            + f"</wfs:OutputFormats><ows:WGS84BoundingBox><ows:LowerCorner>{x0} {y0}</ows:LowerCorner>"
            f"<ows:UpperCorner>{x1} {y1}</ows:UpperCorner></ows:WGS84BoundingBox></wfs:FeatureType>"
        )
    out.append("</wfs:FeatureTypeList>")
    out.append(
        "<ogc:Filter_Capabilities><ogc:Spatial_Capabilities><ogc:GeometryOperands>"
        "<ogc:GeometryOperand>gml:Envelope</ogc:GeometryOperand><ogc:GeometryOperand>gml:Point</ogc:GeometryOperand>"
        "<ogc:GeometryOperand>gml:LineString</ogc:GeometryOperand><ogc:GeometryOperand>gml:Polygon</ogc:GeometryOperand>"
        "</ogc:GeometryOperands><ogc:SpatialOperators>"
        + "".join(f'<ogc:SpatialOperator name="{o}"/>' for o in SPATIAL_OPS)
        + "</ogc:SpatialOperators></ogc:Spatial_Capabilities><ogc:Scalar_Capabilities><ogc:LogicalOperators/>"
        "<ogc:ComparisonOperators>"
        + "".join(f"<ogc:ComparisonOperator>{o}</ogc:ComparisonOperator>" for o in COMPARISON_OPS_11)
        + "</ogc:ComparisonOperators></ogc:Scalar_Capabilities><ogc:Id_Capabilities><ogc:EID/><ogc:FID/>"
        "</ogc:Id_Capabilities></ogc:Filter_Capabilities>"
    )
    out.append("</wfs:WFS_Capabilities>")
    return "".join(out)


def caps_10(url, user):
    layers = _visible(user)
    transactional = any(_editable(layer, user) for layer in layers)

    def dcp():
        return (
            f"<DCPType><HTTP><Get onlineResource={_a(url + '?')}/></HTTP></DCPType>"
            f"<DCPType><HTTP><Post onlineResource={_a(url)}/></HTTP></DCPType>"
        )

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<WFS_Capabilities version="1.0.0" xmlns="http://www.opengis.net/wfs" xmlns:ogc="http://www.opengis.net/ogc" '
        f'xmlns:{PREFIX}="{NS}">',
        f"<Service><Name>WFS</Name><Title>{_e(TITLE)}</Title><Abstract>{_e(ABSTRACT)}</Abstract>"
        f"<OnlineResource>{_e(url)}</OnlineResource><Fees>NONE</Fees>"
        "<AccessConstraints>HTTP Basic authentication</AccessConstraints></Service>",
        f"<Capability><Request><GetCapabilities>{dcp()}</GetCapabilities>"
        f"<DescribeFeatureType><SchemaDescriptionLanguage><XMLSCHEMA/></SchemaDescriptionLanguage>{dcp()}"
        "</DescribeFeatureType>",
    ]
    if transactional:
        out.append(f"<Transaction>{dcp()}</Transaction>")
    out.append(f"<GetFeature><ResultFormat><GML2/></ResultFormat>{dcp()}</GetFeature></Request></Capability>")
    out.append("<FeatureTypeList><Operations><Query/></Operations>")
    for layer in layers:
        x0, y0, x1, y1 = _extent(layer, user)
        ops = (
            "<Operations><Query/>" + ("<Insert/><Update/><Delete/>" if _editable(layer, user) else "") + "</Operations>"
        )
        out.append(
            f"<FeatureType><Name>{PREFIX}:{layer.id}</Name><Title>{_e(layer.title_zh)} {_e(layer.title_en)}</Title>"
            f"<Abstract>{_e(layer.abstract)}</Abstract><SRS>EPSG:{layer.srid}</SRS>{ops}"
            f'<LatLongBoundingBox minx="{x0}" miny="{y0}" maxx="{x1}" maxy="{y1}"/></FeatureType>'
        )
    out.append("</FeatureTypeList>")
    out.append(
        "<ogc:Filter_Capabilities><ogc:Spatial_Capabilities><ogc:Spatial_Operators><ogc:BBOX/><ogc:Intersect/>"
        "<ogc:Within/><ogc:Contains/><ogc:Disjoint/><ogc:Equals/><ogc:Touches/><ogc:Crosses/><ogc:Overlaps/>"
        "</ogc:Spatial_Operators></ogc:Spatial_Capabilities><ogc:Scalar_Capabilities><ogc:Logical_Operators/>"
        "<ogc:Comparison_Operators><ogc:Simple_Comparisons/><ogc:Like/><ogc:Between/><ogc:NullCheck/>"
        "</ogc:Comparison_Operators></ogc:Scalar_Capabilities></ogc:Filter_Capabilities>"
    )
    out.append("</WFS_Capabilities>")
    return "".join(out)


def get_capabilities(request, ows_request, user):
    url = service_url(request)
    builder = {"2.0.0": caps_20, "1.1.0": caps_11, "1.0.0": caps_10}[ows_request.version]
    return HttpResponse(builder(url, user), content_type="application/xml; charset=utf-8")
