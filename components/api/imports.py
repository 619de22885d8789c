"""POST /api/imports/, GET /api/imports/{id}/, GET /api/exports/?format=geojson|csv|gpkg

Included by components/api/urls.py under /api/."""

import json
import logging
import os
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import transaction
from django.http import FileResponse
from django.urls import path
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import roles
from ..exporting import CONTENT_TYPES, FORMATS, export_components
from ..importing.jobs import remove_upload
from ..importing.models import ImportJob
from ..selectors import filter_components, visible_components
from .filters import parse_component_filters
from .permissions import CanRead

log = logging.getLogger(__name__)

_UPLOAD_SUFFIXES = {".gpkg", ".zip", ".geojson", ".json", ".csv", ".txt", ".tsv"}


class CanImport(BasePermission):
    def has_permission(self, request, view):
        return roles.can_import(request.user)


def _bool(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MiB"


class ImportList(APIView):
    permission_classes = [CanImport]
    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request, *args, **kwargs):
        # Before authentication: the session's CSRF check reads the whole form, files and all.
        if request.method == "POST":
            self._check_length(request)
        super().initial(request, *args, **kwargs)

    @staticmethod
    def _check_length(request):
        limit = settings.GRIDCITY_IMPORT_MAX_UPLOAD_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ValidationError({"file": "the Content-Length header is not a number"}) from None
        if length > limit:
            raise UploadTooLarge(
                {
                    "file": f"the upload is {_mib(length)}; at most {_mib(limit)} are accepted "
                    "(zip a Shapefile or GeoJSON to send less)"
                }
            )

    def handle_exception(self, exc):
        # Django's own form limits (fields, files, non-file bytes) are the client's mistake: answer as JSON.
        if isinstance(exc, RequestDataTooBig):
            exc = UploadTooLarge({"file": f"the form is too large: {exc}"})
        elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
            exc = ValidationError({"file": f"the form is refused: {exc}"})
        response = super().handle_exception(exc)
        if isinstance(exc, QueueUnavailable):
            response["Retry-After"] = str(exc.retry_after)
        return response

    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": "required: the file to import"})
        suffix = Path(upload.name).suffix.lower()
        if suffix not in _UPLOAD_SUFFIXES:
            raise ValidationError(
                {"file": f"unsupported file type {suffix!r}: use .gpkg, .zip (Shapefile), .geojson or .csv"}
            )
        mapping = request.data.get("mapping") or {}
        if isinstance(mapping, str):
            try:
                mapping = json.loads(mapping) if mapping.strip() else {}
            except ValueError:
                raise ValidationError({"mapping": "must be JSON: {native_field: file_column}"}) from None
        if not isinstance(mapping, dict):
            raise ValidationError({"mapping": "must be a JSON object {native_field: file_column}"})
        if upload.size > settings.GRIDCITY_IMPORT_MAX_UPLOAD_BYTES:  # a form without Content-Length
            raise UploadTooLarge(
                {
                    "file": f"the file is {_mib(upload.size)}; at most "
                    f"{_mib(settings.GRIDCITY_IMPORT_MAX_UPLOAD_BYTES)} are accepted"
                }
            )
        job_id = uuid.uuid4()
        folder = Path(settings.MEDIA_ROOT) / "imports" / str(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"upload{suffix}"
        try:
            with open(target, "wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            job = ImportJob.objects.create(
                id=job_id,
                file=str(target),
                filename=Path(upload.name).name[:255],
                srid=str(request.data.get("srid") or "")[:40],
                encoding=str(request.data.get("encoding") or "")[:40],
                mapping=mapping,
                dry_run=_bool(request.data.get("dry_run", False)),
                created_by=request.user,
            )
        except BaseException:
            remove_upload(target)  # no job will ever run for it
            raise
        transaction.on_commit(lambda: _enqueue(job))
        body = job.as_dict()
        body["url"] = request.build_absolute_uri(f"{job.pk}/")
        return Response(body, status=status.HTTP_202_ACCEPTED)


class QueueUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "queue_unavailable"


def _enqueue(job: ImportJob) -> None:
    """Hands the job to the worker; when the queue does not take it, no trace of the request is kept
    (job row and upload removed) and the client is told to try again."""
    from ..tasks import run_import

    try:
        run_import.delay(str(job.pk))
    except Exception:  # noqa: BLE001 - kombu/redis raise many kinds when the broker is away
        log.exception("import job %s could not be queued", job.pk)
        ImportJob.objects.filter(pk=job.pk).delete()
        remove_upload(job.file)
        exc = QueueUnavailable({"file": "the import queue is not reachable: nothing was kept, try again in a minute"})
        exc.retry_after = 60
        raise exc from None


class ImportDetail(APIView):
    permission_classes = [CanImport]

    def get(self, request, job_id):
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None:
            raise NotFound(f"no import {job_id}")
        return Response(job.as_dict())


class _DeletingFile:
    """A file object whose file is removed once the response has been sent."""

    def __init__(self, path):
        self.path = path
        self.fh = open(path, "rb")

    def read(self, size=-1):
        return self.fh.read(size)

    def close(self):
        self.fh.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class _IgnoreFormatParam(DefaultContentNegotiation):
    """?format= names the export format here, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class Export(APIView):
    permission_classes = [CanRead]
    content_negotiation_class = _IgnoreFormatParam

    def get(self, request):
        fmt = (request.query_params.get("format") or "geojson").lower()
        if fmt not in FORMATS:
            raise ValidationError({"format": f"must be one of {', '.join(FORMATS)}"})
        params = request.query_params.copy()
        params.setdefault("retired", "any")  # a full export carries retired components too
        qs = filter_components(visible_components(request.user), parse_component_filters(params))
        fd, tmp = tempfile.mkstemp(suffix=FORMATS[fmt], prefix="gridcity-export-")
        os.close(fd)
        try:
            export_components(qs, fmt, tmp)
        except Exception:
            os.unlink(tmp)
            raise
        response = FileResponse(
            _DeletingFile(tmp),
            as_attachment=True,
            filename=f"components{FORMATS[fmt]}",
            content_type=CONTENT_TYPES[fmt],
        )
        return response


urlpatterns = [
    path("imports/", ImportList.as_view(), name="import-list"),
    path("imports/<uuid:job_id>/", ImportDetail.as_view(), name="import-detail"),
    path("exports/", Export.as_view(), name="component-export"),
]
