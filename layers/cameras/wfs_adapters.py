"""WFS-T for the `cameras` layer: QGIS edits go through the service like REST ones, so a refused
angle or range reaches QGIS as an OGC exception naming the property."""

from . import selectors, services


def _values(values: dict) -> dict:
    out = dict(values)
    geom = out.pop("geom", None)
    if geom is not None:
        out["lon"], out["lat"] = geom.x, geom.y
    return out


def insert(user, values: dict):
    return services.create(user, _values(values), action="wfs")


def update(user, camera, values: dict):
    return services.update(user, camera, _values(values), action="wfs")


def delete(user, camera):
    services.delete(user, camera, action="wfs")


can_edit = selectors.may_edit
