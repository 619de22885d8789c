"""Photos of cases: the one write path (upload, attach to an event, sweep) and the read rule.

An upload is trusted for nothing but its pixels. It must decode, by its content, as JPEG, PNG or WebP
(the name and the declared type are ignored), within a byte and a pixel limit; what is stored is a fresh
encoding of the decoded pixels, upright, without EXIF (GPS, camera serials) or any other metadata, so a
polyglot (an image that is also HTML, a script or a zip) keeps only its image. The file is written to a
staging folder before the row, and moved into place only after the row's transaction commits: a
rolled-back upload leaves no stored photo, and `sweep()` clears staged leftovers."""

import hashlib
import io
import logging
import math
import os
import uuid
import warnings
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from components import roles
from gis_core.errors import ServiceError

from . import selectors, workflow
from .intake_models import PHOTO_TYPES, CasePhoto

log = logging.getLogger(__name__)

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
STAGING = "incidents/.staging"
STAGED_GRACE = timedelta(minutes=10)  # a staged file younger than this may still be committing
CHUNK = 64 * 1024


class PhotoTooLarge(ServiceError):
    status = 413


class PhotoRefused(ServiceError):
    """The user may not add photos to this case (403)."""

    status = 403


class CaseFinished(ServiceError):
    status = 409


def max_bytes() -> int:
    return int(getattr(settings, "GRIDCITY_PHOTO_MAX_BYTES", 8 * 1024 * 1024))


def max_pixels() -> int:
    return int(getattr(settings, "GRIDCITY_PHOTO_MAX_PIXELS", 40_000_000))


def max_side() -> int:
    return int(getattr(settings, "GRIDCITY_PHOTO_MAX_SIDE", 4096))


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _media() -> Path:
    return Path(settings.MEDIA_ROOT)


def url_of(photo_id: int) -> str:
    return reverse("incident-photo", args=[photo_id])


def check_may_add(user, case=None) -> None:
    """Photos come from people who report (no case yet) or who may take a step on the case."""
    held = roles.roles_of(user)
    if not held:
        raise PhotoRefused({"file": "your role may not add photos"})
    if case is None:
        from .services import REPORTERS

        if not held & REPORTERS:
            raise PhotoRefused({"file": "your role may not report cases"})
        return
    if case.state not in workflow.OPEN_STATES:
        raise CaseFinished({"file": f"case {case.number} is {workflow.STATES[case.state][1]}: it takes no photos"})
    if not workflow.next_actions(case.state, held):
        raise PhotoRefused({"file": f"your role takes no step on case {case.number} now"})


def _read(upload) -> bytes:
    if upload is None:
        raise ServiceError({"file": "required: the photo (multipart field `file`)"})
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise PhotoTooLarge({"file": f"the photo is {_mib(upload.size)}; at most {_mib(limit)} are accepted"})
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PhotoTooLarge({"file": f"the photo is larger than {_mib(limit)}"})
    if not data:
        raise ServiceError({"file": "the file is empty"})
    return data


def reencode(data: bytes) -> tuple[bytes, str, int, int]:
    """(stored bytes, content type, width, height): the decoded pixels, upright, encoded anew."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=list(FORMATS))
            fmt = img.format
            if img.width * img.height > max_pixels():
                raise ServiceError(
                    {"file": f"the photo has {img.width}x{img.height} pixels; at most {max_pixels():,} are accepted"}
                )
            side = max_side()
            if fmt == "JPEG" and max(img.size) > side:
                # JPEG decodes at 1/2, 1/4 or 1/8 scale for free: a 50 MP photo never sits whole in memory.
                k = side / max(img.size)
                img.draft(None, (math.ceil(img.width * k), math.ceil(img.height * k)))
            img.load()  # decodes every byte now: a truncated or corrupt file is refused here
            img = ImageOps.exif_transpose(img)  # EXIF orientation applied to the pixels, then dropped
            if max(img.size) > side:
                img.thumbnail((side, side), Image.Resampling.LANCZOS)
            return (*_encode(img, fmt), img.width, img.height)
    except UnidentifiedImageError:
        raise ServiceError({"file": "not a JPEG, PNG or WebP image (checked by content, not by name)"}) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ServiceError({"file": f"the photo has too many pixels; at most {max_pixels():,}"}) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError):
        raise ServiceError({"file": "the image is damaged or incomplete"}) from None


def _encode(img: Image.Image, fmt: str) -> tuple[bytes, str]:
    alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    icc = img.info.get("icc_profile")
    img = img.convert("RGBA" if alpha and fmt != "JPEG" else "RGB")
    img.info = {}  # nothing of the original's metadata (EXIF, XMP, text chunks) travels into the new file
    out = io.BytesIO()
    # The colour profile is no one's secret, and without it colours shift; a huge one is dropped.
    options = {"icc_profile": icc} if isinstance(icc, bytes) and len(icc) < 64 * 1024 else {}
    if fmt == "JPEG":
        img.save(out, "JPEG", quality=85, **options)
    elif fmt == "WEBP":
        img.save(out, "WEBP", quality=85, **options)
    else:
        img.save(out, "PNG", **options)
    return out.getvalue(), FORMATS[fmt]


def _pending(user):
    return CasePhoto.objects.filter(uploaded_by=user, event__isnull=True)


def store(user, upload, case=None) -> CasePhoto:
    """Checks, re-encodes and keeps one uploaded photo, not yet attached to any event: a report or a step
    names it in `photos` to attach it. `case` None: a photo for a report not yet sent."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PhotoRefused({"file": "sign in to add photos"})
    check_may_add(user, case)
    limit = int(getattr(settings, "GRIDCITY_PHOTO_MAX_PENDING", 30))
    if _pending(user).count() >= limit:
        raise ServiceError({"file": f"{limit} photos of yours wait to be attached: send the report or step first"})
    content, content_type, width, height = reencode(_read(upload))
    name = f"{uuid.uuid4().hex}.{PHOTO_TYPES[content_type]}"
    relative = f"incidents/{timezone.localdate():%Y/%m}/{name}"
    staged = _stage(name, content)
    # Decoding took its time outside any transaction; the row and the move after commit are one step.
    with transaction.atomic():
        photo = CasePhoto.objects.create(
            case=case,
            path=relative,
            content_type=content_type,
            bytes=len(content),
            width=width,
            height=height,
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=user,
        )
        transaction.on_commit(lambda: _publish(staged, _media() / relative))
    return photo


def _stage(name: str, content: bytes) -> Path:
    folder = _media() / STAGING
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    return target


def _publish(staged: Path, final: Path) -> None:
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)
    except OSError:
        # The row is committed and the bytes are staged: the photo is served from staging until sweep() moves it.
        log.exception("case photo %s: could not move it into place", final.name)


def attach(user, case, event, ids) -> list[CasePhoto]:
    """Attaches the user's unattached uploads `ids` (for this case, or for no case yet) to `event`.
    Runs inside the step's transaction: a refusal leaves the step unwritten too."""
    if ids is None:
        return []
    if not isinstance(ids, list | tuple) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ServiceError({"photos": "a list of photo ids"})
    if not ids:
        return []
    if len(set(ids)) != len(ids):
        raise ServiceError({"photos": "a photo is named twice"})
    limit = int(getattr(settings, "GRIDCITY_PHOTO_MAX_PER_EVENT", 9))
    if len(ids) > limit:
        raise ServiceError({"photos": f"at most {limit} photos per step"})
    if user is None or not getattr(user, "is_authenticated", False):
        raise ServiceError({"photos": "only a signed-in user's uploads can be attached"})
    rows = list(
        CasePhoto.objects.select_for_update()
        .filter(pk__in=ids, uploaded_by=user, event__isnull=True)
        .filter(Q(case__isnull=True) | Q(case=case))
    )
    missing = sorted(set(ids) - {p.pk for p in rows})
    if missing:
        raise ServiceError({"photos": f"photo {missing[0]} is not an unattached upload of yours for this case"})
    CasePhoto.objects.filter(pk__in=ids).update(case=case, event=event)
    return rows


def urls_by_event(case) -> dict[int, list[str]]:
    """event id -> the URLs of its photos, in upload order (one query per case)."""
    found: dict[int, list[str]] = {}
    for pk, event_id in (
        case.photos.filter(event__isnull=False).order_by("created_at", "id").values_list("pk", "event_id")
    ):
        found.setdefault(event_id, []).append(url_of(pk))
    return found


def visible_photo(user, photo_id: int) -> CasePhoto | None:
    """The photo if the user may see it: attached ones with their case, unattached ones by their uploader."""
    photo = CasePhoto.objects.filter(pk=photo_id).select_related("case").first()
    if photo is None:
        return None
    if photo.event_id is None:
        mine = getattr(user, "is_authenticated", False) and photo.uploaded_by_id == user.pk
        return photo if mine else None
    return photo if selectors.visible_cases(user).filter(pk=photo.case_id).exists() else None


def file_of(photo: CasePhoto) -> Path | None:
    final = _media() / photo.path
    if final.is_file():
        return final
    staged = _media() / STAGING / Path(photo.path).name  # committed, not moved yet (see _publish)
    return staged if staged.is_file() else None


def sweep(now=None) -> dict:
    """Moves staged files whose row committed into place, deletes staged files whose transaction never
    committed, and unattached uploads (rows and files) older than GRIDCITY_PHOTO_PENDING_HOURS."""
    now = now or timezone.now()
    moved = dropped = 0
    folder = _media() / STAGING
    cutoff = (now - STAGED_GRACE).timestamp()
    for staged in sorted(folder.glob("*")) if folder.is_dir() else []:
        if not staged.is_file() or staged.stat().st_mtime > cutoff:
            continue
        path = CasePhoto.objects.filter(path__endswith=f"/{staged.name}").values_list("path", flat=True).first()
        if path is not None:
            _publish(staged, _media() / path)
            moved += 1
        else:
            staged.unlink(missing_ok=True)
            dropped += 1
    hours = int(getattr(settings, "GRIDCITY_PHOTO_PENDING_HOURS", 48))
    stale = CasePhoto.objects.filter(event__isnull=True, created_at__lt=now - timedelta(hours=hours))
    with transaction.atomic():
        # Locked first and deleted by id: an upload attached meanwhile is neither deleted nor unlinked.
        rows = list(stale.select_for_update(skip_locked=True).values_list("pk", "path"))
        CasePhoto.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        paths = [path for _, path in rows]
        transaction.on_commit(lambda: [(_media() / p).unlink(missing_ok=True) for p in paths])
    return {"moved": moved, "staged_dropped": dropped, "unattached_dropped": len(rows)}
