"""One read-only catalogue layer per basemap layer in the database (basemap_<name>), drawn pale and
under every other layer (Layer.basemap)."""

from layers.catalogue import Layer, Property, Tiles, register_provider

from . import selectors, styles
from .signals import basemap_changed

GROUP = "底图"


@register_provider
def basemap_layers():
    from .models import BasemapLayer

    return [_layer(row) for row in BasemapLayer.objects.order_by("order", "id")]


def _layer(row) -> Layer:
    pk = int(row.pk)  # pasted into the tile SQL: an integer from our own table
    return Layer(
        id=f"basemap_{row.name}",
        title_zh=row.title,
        title_en=f"Basemap: {row.name}",
        abstract=f"底图（{row.get_kind_display()}，只读），来自 {row.source or '导入'}。",
        queryset=lambda user: selectors.visible_features(user, pk),
        geometry_field="geom",
        geometry_type=row.geometry_type,
        properties=(Property("name", "name", "string", "名称"),),
        pk="id",
        keywords=("底图", "basemap", row.kind),
        tiles=Tiles(
            table="basemap_basemapfeature t",
            id_column="t.id",
            geometry="t.geom_3857",
            where=f"t.layer_id = {pk}",
            columns=(("name", "t.name"),),
            scope=selectors.scope_sql,
            minzoom=styles.MINZOOM.get(row.kind, 10),
            simplify_px=0.5,
            changes=basemap_changed,
            max_age=300,
            style=styles.style(row.kind, row.geometry_type),
            raster_style=styles.raster_style(row.kind),
        ),
        group=GROUP,
        visible=True,
        basemap=True,
    )
