from django.dispatch import Signal

# Sent after commit when fixes were stored (layers.patrols.ingest): drops the cached tiles they touched.
# kwargs: workers (list of user ids), bbox ((minx, miny, maxx, maxy) in EPSG:4490).
patrols_changed = Signal()
