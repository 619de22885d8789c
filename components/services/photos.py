from django.db import transaction

from gis_core.text import bad_character

from ..models import Component, ComponentPhoto
from ..validation import ServiceError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
_SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png", b"RIFF": "webp"}


@transaction.atomic
def add_photo(component: Component, upload, *, caption: str = "", taken_at=None, user=None) -> ComponentPhoto:
    """Attaches a JPEG, PNG or WebP photo, checked by its bytes rather than by its name."""
    if not isinstance(caption, str) or bad_character(caption):
        raise ServiceError({"caption": bad_character(caption) or "must be text"})
    if upload is None:
        raise ServiceError({"image": "required"})
    if upload.size > MAX_PHOTO_BYTES:
        raise ServiceError({"image": f"larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB"})
    head = upload.read(12)
    upload.seek(0)
    kind = next((ext for sig, ext in _SIGNATURES.items() if head.startswith(sig)), None)
    if kind is None or (kind == "webp" and head[8:12] != b"WEBP"):
        raise ServiceError({"image": "must be a JPEG, PNG or WebP image"})
    upload.name = f"{component.code}.{kind}"
    return ComponentPhoto.objects.create(
        component=component,
        image=upload,
        caption=caption[:200],
        taken_at=taken_at,
        uploaded_by=user if getattr(user, "pk", None) else None,
    )
