"""The one where-builder for everything that draws a layer from its table: vector tiles, PNG tiles,
WMS GetMap and GetFeatureInfo. The layer's constant condition, the user's scope and the bound filters,
with %s placeholders; only catalogue constants are pasted, every request value is a parameter."""

from layers.catalogue import Layer


def layer_conditions(layer: Layer, scope_sql: str = "TRUE", scope_params=(), filters=()) -> tuple[str, list]:
    """(SQL condition, parameters). `filters` are tiles.render.bound_filters() pairs (SQL, values)."""
    parts, params = [layer.tiles.where, scope_sql], list(scope_params)
    for sql, values in filters:
        parts.append(sql)
        params.extend(values)
    return " AND ".join(f"({p})" for p in parts), params


def index_column(layer: Layer) -> str:
    """The indexed column a bbox is matched against (a view may expose an indexed box)."""
    return layer.tiles.bbox_column or layer.tiles.geometry
