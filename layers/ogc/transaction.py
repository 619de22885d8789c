"""Transaction (Insert, Update, Delete) in WFS 2.0.0, 1.1.0 and 1.0.0 (and the mixed forms GDAL and
QGIS send), all or nothing in ONE database transaction: the layer's hooks per operation, then the
deferred checks (each edited layer's `finish` hook) once after the last one. Answered in the
request's own version's schema."""

import logging

from django.db import DatabaseError, transaction
from django.http import HttpResponse

from gis_core.errors import ServiceError

from . import crs as crslib
from . import geometry
from .common import layer_for
from .exceptions import OWSException
from .filters import GEOMETRY_NAME, FilterBuilder, convert, resolve_name
from .xmlsafe import children, local, ns, text

log = logging.getLogger(__name__)
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def _reasons(layer, errors: dict) -> str:
    public = {p.source: p.name for p in layer.properties}
    public[layer.geometry_field] = GEOMETRY_NAME
    parts = []
    for key, reason in errors.items():
        name = public.get(key, key)
        parts.append(
            str(reason) if name in (GEOMETRY_NAME, "non_field_errors") and _names_grid(reason) else f"{name}: {reason}"
        )
    return "; ".join(parts)


def _names_grid(reason) -> bool:
    return str(reason).startswith("grid ")


def _check_writable(layer, user, action: str, hook):
    if hook is None:
        raise OWSException(
            f"feature type {layer.id} is read-only: {action} is not allowed",
            code="OperationNotSupported",
            locator=action,
            status=400,
        )
    if not layer.can_edit(user):
        raise OWSException(
            f"user {user.get_username()} may not edit {layer.id}",
            code="OperationNotSupported",
            locator=action,
            status=403,
        )


def _value(prop, elem):
    if elem is None or elem.get(XSI_NIL) in ("true", "1"):
        return None
    raw = text(elem)
    if raw.strip() == "" and (prop.type != "string" or prop.nullable and raw == ""):
        if prop.type != "string":
            return None
    return convert(prop, raw, locator=prop.name)


def _geometry(layer, value_elem, default_crs, locator):
    if value_elem is None:
        return None
    geoms = children(value_elem)
    if not geoms:
        return None
    return geometry.gml_to_geos(
        geoms[0], default_crs, layer.srid, multi=layer.geometry_type.startswith("Multi"), locator=locator
    )


def _targets(layer, user, q):
    """The rows an Update or Delete acts on, in pk order, with what the layer's hooks read."""
    qs = layer.queryset(user).filter(q).order_by(layer.pk)
    if layer.edit_fields:
        qs = qs.select_related(None).only(layer.pk, *layer.edit_fields)
    return qs


def _filter(layer, action_elem, default_crs, locator):
    f = next(iter(children(action_elem, "Filter")), None)
    if f is None:
        raise OWSException(f"{locator} needs a Filter", code="MissingParameterValue", locator=locator)
    return FilterBuilder(layer, default_crs).build(f)


def _default_crs(action_elem, layer):
    srs = action_elem.get("srsName")
    return crslib.parse(srs) if srs else crslib.default(layer)


def _insert(action, user, results, locator):
    for feature in children(action):
        layer = layer_for(local(feature.tag), locator=locator)
        _check_writable(layer, user, "Insert", layer.insert)
        default_crs = _default_crs(action, layer)
        values = {}
        for prop_elem in children(feature):
            if ns(prop_elem.tag) in geometry.GML_NAMESPACES:  # gml:boundedBy, gml:name ...
                continue
            prop = resolve_name(layer, local(prop_elem.tag), locator=locator)
            if prop == GEOMETRY_NAME:
                values[layer.geometry_field] = _geometry(layer, prop_elem, default_crs, locator)
            elif prop.editable:
                values[prop.source] = _value(prop, prop_elem)
            # read-only properties (area_m2, version ...) are computed here: ignored on insert
        missing = [
            p.name for p in layer.properties if p.editable and not p.nullable and values.get(p.source) in (None, "")
        ]
        if values.get(layer.geometry_field) is None:
            missing.append(GEOMETRY_NAME)
        if missing:
            raise OWSException(f"new {layer.id} feature lacks {', '.join(missing)}", locator=locator)
        values = {k: v for k, v in values.items() if v is not None}
        try:
            obj = layer.insert(user, values)
        except ServiceError as exc:
            raise OWSException(
                f"insert into {layer.id} refused: {_reasons(layer, exc.errors)}", locator=locator
            ) from None
        results["inserted"].append((layer, getattr(obj, layer.pk, None), feature.get("handle")))
        results["edited"][layer.id] = layer


def _update(action, user, results, locator):
    layer = layer_for(action.get("typeName") or action.get("typeNames") or "", locator=locator)
    _check_writable(layer, user, "Update", layer.update)
    default_crs = _default_crs(action, layer)
    values = {}
    for prop_elem in children(action, "Property"):
        name_elem = next((c for c in children(prop_elem) if local(c.tag) in ("Name", "ValueReference")), None)
        if name_elem is None:
            raise OWSException("an Update Property needs a Name", locator=locator)
        prop = resolve_name(layer, text(name_elem), locator=locator)
        value_elem = next(iter(children(prop_elem, "Value")), None)
        if prop == GEOMETRY_NAME:
            geom = _geometry(layer, value_elem, default_crs, locator)
            if geom is None:
                raise OWSException("the geometry cannot be removed", locator=locator)
            values[layer.geometry_field] = geom
            continue
        if not prop.editable:
            raise OWSException(f"property {prop.name} of {layer.id} is read-only", locator=locator)
        value = _value(prop, value_elem)
        if value is None and not prop.nullable:
            raise OWSException(f"property {prop.name} of {layer.id} cannot be empty", locator=locator)
        values[prop.source] = value
    q = _filter(layer, action, default_crs, locator)
    for obj in _targets(layer, user, q):
        try:
            layer.update(user, obj, dict(values))
        except ServiceError as exc:
            raise OWSException(
                f"update of {layer.id}.{obj.pk} refused: {_reasons(layer, exc.errors)}", locator=locator
            ) from None
        results["updated"] += 1
        results["edited"][layer.id] = layer


def _delete(action, user, results, locator):
    layer = layer_for(action.get("typeName") or action.get("typeNames") or "", locator=locator)
    _check_writable(layer, user, "Delete", layer.delete)
    q = _filter(layer, action, _default_crs(action, layer), locator)
    for obj in _targets(layer, user, q):
        try:
            layer.delete(user, obj)
        except ServiceError as exc:
            raise OWSException(
                f"delete of {layer.id}.{obj.pk} refused: {_reasons(layer, exc.errors)}", locator=locator
            ) from None
        results["deleted"] += 1
        results["edited"][layer.id] = layer


ACTIONS = {"Insert": _insert, "Update": _update, "Delete": _delete}


def run(root, user) -> dict:
    results = {"inserted": [], "updated": 0, "deleted": 0, "edited": {}}
    actions = [a for a in children(root) if local(a.tag) not in ("LockId",)]
    if not actions:
        raise OWSException(
            "the Transaction holds no Insert, Update or Delete", code="MissingParameterValue", locator="Transaction"
        )
    try:
        with transaction.atomic():
            for i, action in enumerate(actions, 1):
                name = local(action.tag)
                handler = ACTIONS.get(name)
                locator = action.get("handle") or f"{name}[{i}]"
                if handler is None:
                    raise OWSException(
                        f"unsupported transaction action {name}", code="OperationNotSupported", locator=locator
                    )
                handler(action, user, results, locator)
            # Each edited layer's deferred checks, once after the last operation (the same hook once).
            finishers = {layer.finish for layer in results["edited"].values() if layer.finish is not None}
            for finish in finishers:
                try:
                    finish(user)
                except ServiceError as exc:
                    raise OWSException("; ".join(str(v) for v in exc.errors.values()), locator="Transaction") from None
    except DatabaseError as exc:  # a refusal at commit, or a constraint the services did not foresee
        cause = exc.__cause__ or exc
        message = getattr(getattr(cause, "diag", None), "message_primary", None) or str(cause).splitlines()[0]
        log.info("WFS transaction refused by the database: %s", message)
        raise OWSException(f"the database refused the transaction: {message}", locator="Transaction") from None
    return results


def _response(version: str, results: dict) -> str:
    ins, upd, dele = len(results["inserted"]), results["updated"], results["deleted"]
    fids = [(f"{layer.id}.{pk}", handle) for layer, pk, handle in results["inserted"] if pk is not None]
    if version == "1.0.0":
        insert = ""
        if fids:
            insert = (
                "<wfs:InsertResult>" + "".join(f'<ogc:FeatureId fid="{f}"/>' for f, _ in fids) + "</wfs:InsertResult>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<wfs:WFS_TransactionResponse version="1.0.0" xmlns:wfs="http://www.opengis.net/wfs" '
            f'xmlns:ogc="http://www.opengis.net/ogc">{insert}<wfs:TransactionResult><wfs:Status><wfs:SUCCESS/>'
            "</wfs:Status></wfs:TransactionResult></wfs:WFS_TransactionResponse>"
        )
    if version == "1.1.0":
        wfs_ns, id_el, id_attr, fes = (
            "http://www.opengis.net/wfs",
            "ogc:FeatureId",
            "fid",
            'xmlns:ogc="http://www.opengis.net/ogc"',
        )
    else:
        wfs_ns, id_el, id_attr, fes = (
            "http://www.opengis.net/wfs/2.0",
            "fes:ResourceId",
            "rid",
            'xmlns:fes="http://www.opengis.net/fes/2.0"',
        )
    insert = ""
    if fids:
        insert = (
            "<wfs:InsertResults>"
            + "".join(f'<wfs:Feature{_handle(h)}><{id_el} {id_attr}="{f}"/></wfs:Feature>' for f, h in fids)
            + "</wfs:InsertResults>"
        )
    replaced = "<wfs:totalReplaced>0</wfs:totalReplaced>" if version == "2.0.0" else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<wfs:TransactionResponse version="{version}" xmlns:wfs="{wfs_ns}" {fes}>'
        f"<wfs:TransactionSummary><wfs:totalInserted>{ins}</wfs:totalInserted>"
        f"<wfs:totalUpdated>{upd}</wfs:totalUpdated>{replaced}<wfs:totalDeleted>{dele}</wfs:totalDeleted>"
        f"</wfs:TransactionSummary>{insert}</wfs:TransactionResponse>"
    )


def _handle(h):
    from xml.sax.saxutils import quoteattr

    return f" handle={quoteattr(h)}" if h else ""


def transaction_op(request, ows_request, user):
    if ows_request.xml is None:
        raise OWSException(
            "a Transaction is POSTed as an XML document", code="OperationNotSupported", locator="request"
        )
    results = run(ows_request.xml, user)
    return HttpResponse(_response(ows_request.version, results), content_type="application/xml; charset=utf-8")
