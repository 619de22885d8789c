from django.dispatch import Signal

# Sent after commit when components were created, changed or retired, by any write path.
# kwargs: codes (list of IDs, may be empty for bulk), bbox ((minx, miny, maxx, maxy) in EPSG:4490 or None)
components_changed = Signal()
