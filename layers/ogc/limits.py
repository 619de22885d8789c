"""What one OGC request may ask for: body size per operation, queries per GetFeature, filter
operands, PropertyIsLike patterns. Each is a module constant that a setting of the same name with a
GRIDCITY_OGC_ prefix overrides (gis_core/settings.py, docs/wfs.md); every refusal is an OGC
exception naming the locator, raised before any database work."""

from django.conf import settings

from .exceptions import OWSException

# Bodies: a Transaction carries geometries; every other operation is a few KB of XML.
MAX_TRANSACTION_BYTES = 5 * 1024 * 1024
MAX_REQUEST_BYTES = 256 * 1024
# GetFeature: each wfs:Query (or KVP type name) is its own database query.
MAX_QUERIES = 10
# Filters: comparisons, spatial and id operators together, per Filter; ids per request.
MAX_FILTER_OPERATORS = 200
MAX_FEATURE_IDS = 1000
MAX_PROPERTY_NAMES = 100
# PropertyIsLike becomes a PostgreSQL regex: long patterns with many wildcards backtrack.
MAX_LIKE_PATTERN = 200
MAX_LIKE_WILDCARDS = 10


def limit(name: str) -> int:
    return int(getattr(settings, f"GRIDCITY_OGC_{name}", globals()[name]))


def check_count(n: int, name: str, what: str, locator: str) -> None:
    cap = limit(name)
    if n > cap:
        raise OWSException(f"too many {what}: {n} (at most {cap} per request)", locator=locator)
