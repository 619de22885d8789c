"""The throwaway domain's one layer, declared the way every domain declares its layers."""

from components import roles
from layers.catalogue import Layer, Property, Tiles, register

from . import services
from .models import Pin


def _readers(user):
    return ("all", "TRUE", []) if roles.can_read(user) else None


register(
    Layer(
        id="throwaway_pins",
        title_zh="测试图钉",
        title_en="Throwaway pins",
        queryset=lambda user: Pin.objects.all() if roles.can_read(user) else Pin.objects.none(),
        geometry_field="geom",
        geometry_type="Point",
        properties=(Property("name", "name", "string", "名称", editable=True, nullable=False),),
        insert=lambda user, values: services.create_pin(user, **values),
        update=services.update_pin,
        delete=services.delete_pin,
        can_edit=lambda user: roles.GIS_EDITOR in roles.roles_of(user),
        tiles=Tiles(
            table="throwaway_pin",
            geometry="ST_Transform(geom, 3857)",
            columns=(("name", "name"),),
            scope=_readers,
            changes=services.pins_changed,
            style=({"id": "points", "type": "circle", "paint": {"circle-color": "#e11d48", "circle-radius": 5}},),
            raster_style={"marker_fill": "#e11d48", "marker_size": 8},
        ),
        group="测试",
    )
)
