"""The one write path of a pin: the change, then the change signal after commit."""

from django.db import transaction
from django.dispatch import Signal

from gis_core.errors import ServiceError

from .models import Pin

pins_changed = Signal()


def _announce(*geoms):
    boxes = [g.extent for g in geoms if g is not None]
    bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    transaction.on_commit(lambda: pins_changed.send(sender=Pin, bbox=bbox))


def create_pin(user=None, **values) -> Pin:
    if not values.get("name"):
        raise ServiceError("a pin needs a name", field="name")
    pin = Pin.objects.create(**values)
    _announce(pin.geom)
    return pin


def update_pin(user, pin: Pin, values: dict) -> Pin:
    old = pin.geom.clone()
    for key, value in values.items():
        setattr(pin, key, value)
    pin.save()
    _announce(old, pin.geom)
    return pin


def delete_pin(user, pin: Pin):
    geom = pin.geom.clone()
    pin.delete()
    _announce(geom)
