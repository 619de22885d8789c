"""Thin views of intake: photo uploads and the photo files, merging, possible duplicates; and the parts
of a case's detail answer intake adds (event photos, reporters, merges)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import FileResponse, HttpResponse
from django.http.multipartparser import MultiPartParserError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from components import roles
from gis_core.openapi import error, with_errors

from . import merging, photos, reporters, selectors, services
from .api import _detail, _refused, _visible

MULTIPART_SLACK = 64 * 1024  # the form's own boundaries and headers around the one file
PHOTO_FORM = {"multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}
TOO_LARGE = error("the photo is larger than GRIDCITY_PHOTO_MAX_BYTES")


class PhotoAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="GET it here; name the id in a report's or step's `photos`")


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"


class _Upload(APIView):
    parser_classes = [MultiPartParser]

    def initial(self, request, *args, **kwargs):
        # Before authentication: the session's CSRF check would read the whole form, file and all.
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                raise ValidationError({"file": "the Content-Length header is not a number"}) from None
            if length > photos.max_bytes() + MULTIPART_SLACK:
                raise UploadTooLarge(
                    {"file": f"the upload is {length:,} bytes; a photo may have {photos.max_bytes():,}"}
                )
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, RequestDataTooBig):
            exc = UploadTooLarge({"file": f"the form is too large: {exc}"})
        elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent, MultiPartParserError)):
            exc = ValidationError({"file": f"the form is refused: {exc}"})
        return super().handle_exception(exc)

    def _store(self, request, case):
        files = request.FILES.getlist("file")
        if len(files) > 1:
            return _refused(services.ServiceError({"file": "one photo per request"}))
        try:
            photo = photos.store(request.user, files[0] if files else None, case)
        except services.ServiceError as exc:
            return _refused(exc)
        return Response({"id": photo.pk, "url": photos.url_of(photo.pk)}, status=status.HTTP_201_CREATED)


class PhotoUpload(_Upload):
    """A photo for a report not sent yet: name its id in the report's `photos`."""

    @extend_schema(
        operation_id="incidents_photo_upload",
        request=PHOTO_FORM,
        responses=with_errors({201: PhotoAnswer, 413: TOO_LARGE}, forbidden=True),
    )
    def post(self, request):
        return self._store(request, None)


class CasePhotoUpload(_Upload):
    """A photo for the user's next step on this case: name its id in the step's `photos`."""

    @extend_schema(
        operation_id="incidents_case_photo_upload",
        request=PHOTO_FORM,
        responses=with_errors(
            {201: PhotoAnswer, 413: TOO_LARGE, 409: error("the case is closed")}, forbidden=True, not_found=True
        ),
    )
    def post(self, request, number):
        return self._store(request, _visible(request.user, number))


class PhotoFile(APIView):
    """The stored photo (re-encoded, without metadata), to users who may see its case."""

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 304: None, 404: error("no such photo")})
    def get(self, request, photo_id):
        photo = photos.visible_photo(request.user, photo_id)
        found = photos.file_of(photo) if photo is not None else None
        if found is None:
            raise NotFound(f"no photo {photo_id}")
        etag = f'"{photo.sha256}"'
        if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            response = HttpResponse(status=304)
        else:
            response = FileResponse(open(found, "rb"), content_type=photo.content_type)
            response["Content-Length"] = str(photo.bytes)
            name = f"{photo.case.number if photo.case_id else 'photo'}-{photo.pk}.{found.suffix.lstrip('.')}"
            response["Content-Disposition"] = f'inline; filename="{name}"'
        response["ETag"] = etag
        # Private: who may see it depends on the user and may change (a case reassigned to another unit).
        response["Cache-Control"] = "private, max-age=3600"
        response["Vary"] = "Cookie, Authorization"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class MergeSerializer(serializers.Serializer):
    into = serializers.CharField(max_length=14, help_text="number of the case kept")
    note = serializers.CharField(max_length=services.NOTE_MAX, allow_blank=True, default="")
    photos = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=50, required=False)


class CaseMergeView(APIView):
    """合并: this case is a duplicate of `into`; it goes to 作废 and its reporters go to `into`."""

    @extend_schema(
        request=MergeSerializer,
        responses=with_errors(
            {200: OpenApiTypes.OBJECT, 409: error("target closed or void, or not mergeable")},
            forbidden=True,
            not_found=True,
        ),
    )
    def post(self, request, number):
        case = _visible(request.user, number)
        body = MergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            case = merging.merge(request.user, case, data["into"], data["note"], data.get("photos"))
        except services.ServiceError as exc:
            return _refused(exc)
        return Response(_detail(selectors.case_with_events(request.user, case.number) or case, request.user))


class CaseDuplicates(APIView):
    """Open cases of the same class near this one, reported within the window: candidates to merge."""

    @extend_schema(responses=with_errors({200: OpenApiTypes.OBJECT}, bad_request=False, not_found=True))
    def get(self, request, number):
        case = _visible(request.user, number)
        found = selectors.possible_duplicates(request.user, case)[:50]
        return Response(
            {
                "number": case.number,
                "radius_m": settings.GRIDCITY_INCIDENT_DUPLICATE_METRES,
                "hours": settings.GRIDCITY_INCIDENT_DUPLICATE_HOURS,
                "duplicates": [
                    {
                        "number": c.number,
                        "state": c.state,
                        "class_code": c.case_class.code,
                        "description": c.description,
                        "distance_m": round(c.distance_m, 1),
                        "created_at": c.created_at,
                    }
                    for c in found
                ],
            }
        )


def _masked(phone: str, user) -> str:
    """A reporter's phone in full to the desk (dispatcher, administrator); to others its last four digits."""
    if not phone or roles.roles_of(user) & {roles.DISPATCHER, roles.ADMINISTRATOR}:
        return phone
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def detail_extras(case, user, events: list[dict], event_ids: list[int]) -> dict:
    """Adds `photos` to each event answer and returns the case properties intake adds."""
    by_event = photos.urls_by_event(case)
    for answer, event_id in zip(events, event_ids, strict=True):
        answer["photos"] = by_event.get(event_id, [])
    return {
        "reporters": [
            {
                "name": r.name,
                "phone": _masked(r.phone, user),
                "source": r.source,
                "reported_at": r.reported_at,
                "from_case": r.from_case.number if r.from_case_id else None,
            }
            for r in reporters.reporters_of(case)
        ],
        "merged_into": merging.merged_into(case),
        "merged_from": merging.merged_from(case),
    }
