from django.dispatch import Signal

# Sent after commit when cases were reported or changed state, by any write path (layers.incidents.services).
# kwargs: numbers (list of case numbers), bbox ((minx, miny, maxx, maxy) in EPSG:4490).
incidents_changed = Signal()
