"""Thin REST views: parse, call a selector or a service, serialise."""

from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_core.api_errors import error_body
from gis_core.openapi import feature_page, with_errors

from .. import selectors, services, visibility
from ..models import ClassMapping, ComponentClass, ComponentState, Organisation
from .card import with_card
from .features import feature_rows, ownership, row_by_code, to_feature
from .filters import parse_component_filters
from .permissions import (
    CanAddPhoto,
    CanChangeState,
    CanEdit,
    CanRead,
    CanRetire,
    CanTransfer,
    IsAdministrator,
    ReadOrRegister,
    refused_fields,
)
from .serializers import (
    ComponentClassSerializer,
    ComponentSerializer,
    ComponentStateSerializer,
    ComponentWriteSerializer,
    OrganisationSerializer,
    OwnershipSerializer,
    RetireSerializer,
    StateChangeSerializer,
    TransferRecordSerializer,
    TransferSerializer,
    hide_other_phones,
)

FILTER_PARAMS = [
    OpenApiParameter("class", str, description="class codes, comma-separated (e.g. 0118,0101)"),
    OpenApiParameter("major", str, description="major class codes, comma-separated"),
    OpenApiParameter("state", str, description="state codes (intact, damaged, lost, abandoned, removed)"),
    OpenApiParameter("owner", str, description="owner USCC"),
    OpenApiParameter("maintainer", str, description="maintenance unit USCC"),
    OpenApiParameter("department", str, description="department in charge USCC"),
    OpenApiParameter("unit", str, description="USCC of an organisation in any role"),
    OpenApiParameter("admin_code", str),
    OpenApiParameter("street_code", str),
    OpenApiParameter("community_code", str),
    OpenApiParameter("grid_code", str),
    OpenApiParameter("census_from", OpenApiTypes.DATE),
    OpenApiParameter("census_to", OpenApiTypes.DATE),
    OpenApiParameter("changed_from", OpenApiTypes.DATE),
    OpenApiParameter("changed_to", OpenApiTypes.DATE),
    OpenApiParameter("retired", str, enum=["false", "true", "any"], description="default false"),
    OpenApiParameter("bbox", str, description="minlon,minlat,maxlon,maxlat (EPSG:4490)"),
    OpenApiParameter("near", str, description="lon,lat: components within `radius` metres, nearest first"),
    OpenApiParameter("radius", float, description="metres, default 50, at most 5000"),
    OpenApiParameter("within", str, description="GeoJSON or WKT polygon"),
]


def _one_row(user, code) -> dict:
    if visibility.scope(user)[0] != visibility.ALL:
        row = feature_rows(selectors.visible_components(user).filter(code=code)).first()
    else:  # everyone else sees every component: the same query each time
        row = row_by_code(selectors.visible_components(user), code)
    if row is None:
        raise NotFound(f"no component {code}")
    return row


def _feature_page(view, qs, with_distance: bool):
    rows = feature_rows(qs, with_distance)
    paginator = view.paginator
    request = view.request
    size = paginator.get_page_size(request)
    page_text = request.query_params.get(paginator.page_query_param, "1")
    if page_text == "1":
        # A first page that holds every match knows its count: skip the COUNT query (for a
        # nearest-first search that is a second spatial query).
        first = list(rows[: size + 1])
        if len(first) <= size:
            return Response(
                {
                    "type": "FeatureCollection",
                    "count": len(first),
                    "next": None,
                    "previous": None,
                    "features": [_feature(row, request.user) for row in first],
                }
            )
    page = view.paginate_queryset(rows)
    return view.get_paginated_response({"features": [_feature(row, request.user) for row in page]})


def _feature(row: dict, user) -> dict:
    return hide_other_phones(to_feature(row), user)


def _written(request, component) -> dict:
    """The answer to a write: the saved row as the writer's serializer shows it, read without the
    visibility scope, inside the write's transaction (a failure here rolls the write back)."""
    return ComponentSerializer(selectors.written_component(component.pk), context={"request": request}).data


def _write_fields(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "code"}


class ComponentList(generics.GenericAPIView):
    """Components as a GeoJSON FeatureCollection, paged and filtered; POST registers a new one."""

    permission_classes = [ReadOrRegister]
    serializer_class = ComponentSerializer

    def get_queryset(self):
        filters = parse_component_filters(self.request.query_params)
        return selectors.filter_components(selectors.visible_components(self.request.user), filters)

    @extend_schema(
        parameters=FILTER_PARAMS,
        operation_id="components_list",
        responses=with_errors({200: feature_page("Component")}),
    )
    def get(self, request):
        return _feature_page(self, self.get_queryset(), "near" in request.query_params)

    @extend_schema(request=ComponentWriteSerializer, responses=with_errors({201: ComponentSerializer}, forbidden=True))
    @transaction.atomic
    def post(self, request):
        s = ComponentWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        component = services.create_component(
            user=request.user, code=s.validated_data.get("code"), **_write_fields(s.validated_data)
        )
        return Response(_written(request, component), status=status.HTTP_201_CREATED)


class ComponentWithin(generics.GenericAPIView):
    """Components inside a polygon given in the body (for polygons too long for a URL)."""

    permission_classes = [CanRead]
    serializer_class = ComponentSerializer

    @extend_schema(
        request={"application/json": {"type": "object", "properties": {"geometry": {"type": "object"}}}},
        parameters=FILTER_PARAMS,
        responses=with_errors({200: feature_page("Component")}),
    )
    def post(self, request):
        geometry = request.data.get("geometry") if isinstance(request.data, dict) else None
        if not geometry:
            return Response(
                {
                    "message": "geometry: required (a GeoJSON Polygon)",
                    "field": "geometry",
                    "errors": [{"field": "geometry", "message": "required"}],
                },
                status=400,
            )
        filters = parse_component_filters(request.query_params, body_geometry=geometry)
        qs = selectors.filter_components(selectors.visible_components(request.user), filters)
        return _feature_page(self, qs, "near" in filters)


class ComponentDetail(APIView):
    permission_classes = [CanEdit]

    @extend_schema(
        responses=with_errors({200: ComponentSerializer}, not_found=True),
        description="The component as a GeoJSON Feature; besides the list fields its properties carry "
        "`attribute_rows` ([{key, label, value}]: the class attributes with their Chinese labels) and "
        "`grid` ({code, name, level, level_name} of the grid it lies in, or null). Organisation phones "
        "follow the visibility rule (a maintenance unit sees its own organisation's only).",
    )
    def get(self, request, code):
        return Response(with_card(_feature(_one_row(request.user, code), request.user)))

    @extend_schema(
        request=ComponentWriteSerializer,
        responses=with_errors({200: ComponentSerializer}, not_found=True, forbidden=True),
    )
    @transaction.atomic
    def patch(self, request, code):
        component = selectors.get_component(request.user, code)
        if isinstance(request.data, dict):
            refused = refused_fields(request.user, request.data.keys())
            if refused:
                return Response(error_body(refused[1].items()), status=refused[0])
        s = ComponentWriteSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        if "code" in s.validated_data and s.validated_data["code"] != code:
            return Response(
                {
                    "message": "code: an ID cannot be changed",
                    "field": "code",
                    "errors": [{"field": "code", "message": "an ID cannot be changed"}],
                },
                status=400,
            )
        component = services.update_component(component, user=request.user, **_write_fields(s.validated_data))
        return Response(_written(request, component))


class ComponentOwnership(APIView):
    """Who is in charge of, owns and maintains this component."""

    permission_classes = [CanEdit]

    @extend_schema(responses=with_errors({200: OwnershipSerializer}, not_found=True))
    def get(self, request, code):
        return Response(hide_other_phones(ownership(_one_row(request.user, code)), request.user))


class ComponentStateChange(APIView):
    permission_classes = [CanChangeState]

    @extend_schema(
        request=StateChangeSerializer, responses=with_errors({200: ComponentSerializer}, not_found=True, forbidden=True)
    )
    @transaction.atomic
    def post(self, request, code):
        component = selectors.get_component(request.user, code)
        s = StateChangeSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        component = services.change_state(
            component, s.validated_data["state"], user=request.user, note=s.validated_data["note"]
        )
        return Response(_written(request, component))


class ComponentRetire(APIView):
    permission_classes = [CanRetire]

    @extend_schema(
        request=RetireSerializer, responses=with_errors({200: ComponentSerializer}, not_found=True, forbidden=True)
    )
    @transaction.atomic
    def post(self, request, code):
        component = selectors.get_component(request.user, code)
        s = RetireSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        component = services.retire_component(
            component, reason=s.validated_data["reason"], at=s.validated_data.get("at"), user=request.user
        )
        return Response(_written(request, component))


class ComponentHistory(APIView):
    """Every change of a component: who, when, what, old and new values."""

    permission_classes = [CanEdit]

    @extend_schema(responses=with_errors({200: OpenApiTypes.OBJECT}, not_found=True))
    def get(self, request, code):
        from ..history import component_history

        component = selectors.get_component(request.user, code)
        return Response({"code": code, "history": component_history(component)})


class ComponentPhotos(APIView):
    """Photos of a component: GET lists them, POST (multipart: image, caption, taken_at) adds one."""

    permission_classes = [CanAddPhoto]

    @extend_schema(responses=with_errors({200: OpenApiTypes.OBJECT}, not_found=True))
    def get(self, request, code):
        component = selectors.get_component(request.user, code)
        return Response([_photo(p) for p in component.photos.order_by("-uploaded_at")])

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"image": {"type": "string", "format": "binary"}, "caption": {"type": "string"}},
            }
        },
        responses=with_errors({201: OpenApiTypes.OBJECT}, not_found=True, forbidden=True),
    )
    @transaction.atomic
    def post(self, request, code):
        component = selectors.get_component(request.user, code)
        photo = services.add_photo(
            component, request.FILES.get("image"), caption=request.data.get("caption", ""), user=request.user
        )
        return Response(_photo(photo), status=status.HTTP_201_CREATED)


def _photo(photo) -> dict:
    return {
        "id": photo.pk,
        "url": photo.image.url,
        "caption": photo.caption,
        "taken_at": photo.taken_at,
        "uploaded_at": photo.uploaded_at,
    }


class ComponentTransfer(APIView):
    """Moves the department, owner or maintainer of one or many components, dated and recorded."""

    permission_classes = [CanTransfer]

    @extend_schema(
        request=TransferSerializer,
        responses=with_errors(
            {
                200: inline_serializer(
                    "TransferResult",
                    fields={
                        "transferred": serializers.IntegerField(),
                        "transfers": TransferRecordSerializer(many=True),
                    },
                )
            },
            forbidden=True,
        ),
    )
    @transaction.atomic
    def post(self, request):
        s = TransferSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        codes = list(dict.fromkeys(s.validated_data["codes"]))
        components = list(selectors.visible_components(request.user).filter(code__in=codes))
        missing = sorted(set(codes) - {c.code for c in components})
        if missing:
            return Response(
                {
                    "message": f"codes: unknown components {', '.join(missing[:10])}",
                    "field": "codes",
                    "errors": [{"field": "codes", "message": f"unknown component {m}"} for m in missing],
                },
                status=400,
            )
        transfers = services.transfer_ownership(
            components,
            role=s.validated_data["role"],
            to_org=s.validated_data["to"],
            effective_date=s.validated_data.get("effective_date"),
            reason=s.validated_data["reason"],
            user=request.user,
        )
        return Response(
            {
                "transferred": len(transfers),
                "transfers": TransferRecordSerializer(transfers, many=True, context={"request": request}).data,
            }
        )


class OrganisationList(generics.ListCreateAPIView):
    permission_classes = [IsAdministrator]
    serializer_class = OrganisationSerializer
    pagination_class = None
    queryset = Organisation.objects.all()

    def perform_create(self, serializer):
        serializer.instance = services.upsert_organisation(**serializer.validated_data)


class OrganisationDetail(generics.RetrieveAPIView):
    permission_classes = [IsAdministrator]
    serializer_class = OrganisationSerializer
    queryset = Organisation.objects.all()
    lookup_field = "uscc"


def _organisation_for(request, uscc) -> Organisation:
    org = get_object_or_404(Organisation, uscc=uscc)
    kind, own = visibility.scope(request.user)
    if kind == visibility.UNIT and own != org:
        raise PermissionDenied("a maintenance unit sees only its own organisation")
    return org


class OrganisationSummary(APIView):
    """Counts per class and state of everything an organisation owns, maintains or is in charge of."""

    permission_classes = [CanEdit]

    @extend_schema(responses=with_errors({200: OpenApiTypes.OBJECT}, not_found=True, forbidden=True))
    def get(self, request, uscc):
        org = _organisation_for(request, uscc)
        return Response(
            {
                "organisation": OrganisationSerializer(org, context={"request": request}).data,
                **selectors.unit_summary(request.user, org),
            }
        )


class OrganisationComponents(generics.GenericAPIView):
    """The components an organisation owns (role=owner), maintains (maintainer), is in charge of
    (department) or any of these (role=any, the default)."""

    permission_classes = [CanEdit]
    serializer_class = ComponentSerializer

    @extend_schema(
        parameters=[OpenApiParameter("role", str, enum=["any", "owner", "maintainer", "department"])] + FILTER_PARAMS,
        responses=with_errors({200: feature_page("Component")}, not_found=True, forbidden=True),
    )
    def get(self, request, uscc):
        org = _organisation_for(request, uscc)
        role = request.query_params.get("role", "any")
        if role not in ("any", "owner", "maintainer", "department"):
            return Response(
                {
                    "message": "role: must be any, owner, maintainer or department",
                    "field": "role",
                    "errors": [{"field": "role", "message": "must be any, owner, maintainer or department"}],
                },
                status=400,
            )
        filters = parse_component_filters(request.query_params)
        filters["unit" if role == "any" else role] = org.uscc
        qs = selectors.filter_components(selectors.visible_components(request.user), filters)
        return _feature_page(self, qs, "near" in filters)


class ClassList(generics.ListAPIView):
    permission_classes = []
    authentication_classes = []
    serializer_class = ComponentClassSerializer
    pagination_class = None

    @extend_schema(parameters=[OpenApiParameter("scheme", str, enum=["gbt30428", "gbt47678", "local"])])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = ComponentClass.objects.select_related("scheme").prefetch_related(
            Prefetch("mapped_to", queryset=ClassMapping.objects.select_related("target"))
        )
        scheme = self.request.query_params.get("scheme")
        if scheme:
            qs = qs.filter(scheme__code=scheme)
        return qs


class ComponentOrganisations(APIView):
    """The owners and maintenance units of the components this user may see, names and USCCs only:
    the choices of the viewer's owner and maintainer filters (the organisation list is for administrators)."""

    permission_classes = [CanRead]

    @extend_schema(
        responses=with_errors(
            {
                200: inline_serializer(
                    "ComponentOrganisations",
                    {
                        "owners": serializers.ListField(child=serializers.DictField()),
                        "maintainers": serializers.ListField(child=serializers.DictField()),
                    },
                )
            }
        )
    )
    def get(self, request):
        visible = selectors.visible_components(request.user).filter(retired=False)

        def of(column):
            ids = visible.order_by().values(column).distinct()
            return list(Organisation.objects.filter(pk__in=ids).order_by("name").values("uscc", "name"))

        response = Response({"owners": of("owner_id"), "maintainers": of("maintainer_id")})
        response["Cache-Control"] = "private, max-age=300"
        return response


class StateList(generics.ListAPIView):
    permission_classes = []
    authentication_classes = []
    serializer_class = ComponentStateSerializer
    pagination_class = None
    queryset = ComponentState.objects.all()
