"""Bulk import of components: GeoPackage, zipped Shapefile, GeoJSON, CSV. See components.importing.core.

Loaded lazily, because components.models imports the ImportJob model from this package."""

__all__ = ["import_file", "ImportResult", "RowError", "ImportFailed", "NATIVE_FIELDS"]


def __getattr__(name):
    if name in __all__:
        from . import core

        return getattr(core, name)
    raise AttributeError(name)
