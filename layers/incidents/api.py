"""Thin REST views over the case services and the visibility selector: /api/incidents/."""

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from components import roles
from components.api.pagination import FeaturePagination
from components.models import Organisation
from gis_core.api_errors import error_body
from gis_core.errors import ClientError
from gis_core.openapi import error, feature_page, with_errors

from . import clock_api, escalation, selectors, services, workflow
from .models import Case, CaseClass, Severity, Source

CONFLICT = error("the action is not allowed from the case's state: the message lists the allowed next actions")
FILTER_PARAMS = [
    OpenApiParameter("state", str, description=f"states, comma-separated ({', '.join(workflow.STATES)})"),
    OpenApiParameter("class", str, description="case class codes (a major class includes its sub-classes)"),
    OpenApiParameter("source", str, description=f"sources, comma-separated ({', '.join(Source.values)})"),
    OpenApiParameter("unit", str, description="USCC of the assigned organisation"),
    OpenApiParameter("grid", str, description="a base grid, community or street code"),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="reported on or after"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="reported on or before"),
    OpenApiParameter("escalated", bool, description="true: escalated above the base grid; false: not"),
]


def _refused(exc: services.ServiceError) -> Response:
    body = error_body(exc.errors.items())
    if isinstance(exc, services.TransitionRefused):
        body["allowed"] = exc.allowed
    return Response(body, status=exc.status)


def _values(params, name: str, allowed=None) -> list[str] | None:
    text = params.get(name)
    if text is None:
        return None
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise ClientError(f"{name}: give at least one value", field=name)
    if allowed is not None:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise ClientError(f"{name}: unknown value {unknown[0]!r}: one of {', '.join(allowed)}", field=name)
    return values


def _date(params, name: str) -> dt.date | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ClientError(f"{name}: must be a date YYYY-MM-DD", field=name) from None


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())


def filter_cases(qs, params):
    """The list filters, each checked first: an unknown value is a 400 naming the parameter."""
    states = _values(params, "state", list(workflow.STATES))
    if states:
        qs = qs.filter(state__in=states)
    classes = _values(params, "class")
    if classes:
        known = set(CaseClass.objects.filter(code__in=classes).values_list("code", flat=True))
        unknown = [c for c in classes if c not in known]
        if unknown:
            raise ClientError(f"class: no case class {unknown[0]!r}", field="class")
        qs = qs.filter(Q(case_class__code__in=classes) | Q(case_class__parent__code__in=classes))
    sources = _values(params, "source", Source.values)
    if sources:
        qs = qs.filter(source__in=sources)
    units = _values(params, "unit")
    if units:
        found = list(Organisation.objects.filter(uscc__in=units).values_list("pk", flat=True))
        if len(found) != len(set(units)):
            raise ClientError("unit: no organisation with that USCC", field="unit")
        qs = qs.filter(assigned_org__in=found)
    grid = params.get("grid")
    if grid is not None:
        if not grid.isascii() or not grid.isdigit() or len(grid) > 18:
            raise ClientError("grid: must be a grid code (digits)", field="grid")
        qs = qs.filter(Q(grid_code=grid) | Q(community_code=grid) | Q(street_code=grid))
    start, end = _date(params, "date_from"), _date(params, "date_to")
    # Bounds as moments (the start of the local day), not created_at::date: the index on created_at serves them.
    if start:
        qs = qs.filter(created_at__gte=_day_start(start))
    if end:
        qs = qs.filter(created_at__lt=_day_start(end + dt.timedelta(days=1)))
    escalated = _values(params, "escalated", ["true", "false"])
    if escalated:
        if len(escalated) > 1:
            raise ClientError("escalated: true or false, not both", field="escalated")
        qs = qs.filter(escalation_level__gt=0) if escalated[0] == "true" else qs.filter(escalation_level=0)
    return qs


def _org(org) -> dict | None:
    return {"uscc": org.uscc, "name": org.name} if org is not None else None


def case_properties(case: Case, user) -> dict:
    number, name = workflow.STATES[case.state]
    return {
        "number": case.number,
        "state": case.state,
        "state_code": number,
        "state_name": name,
        "class_code": case.case_class.code,
        "class_name": case.case_class.name,
        "source": case.source,
        "severity": case.severity,
        "description": case.description,
        "component_code": case.component.code if case.component_id else None,
        "grid_code": case.grid_code,
        "community_code": case.community_code,
        "street_code": case.street_code,
        "assigned_org": _org(case.assigned_org),
        "escalation_level": case.escalation_level,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "next_actions": clock_api.possible(case, workflow.next_actions(case.state, roles.roles_of(user))),
        **clock_api.properties(case),
    }


def to_feature(case: Case, user) -> dict:
    lon, lat = case.geom.coords
    return {
        "type": "Feature",
        "id": case.number,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": case_properties(case, user),
    }


def _detail(case: Case, user) -> dict:
    from .intake_api import detail_extras

    feature = to_feature(case, user)
    events = list(case.events.all())
    feature["properties"]["grid_staff"] = escalation.grid_staff(case)
    feature["properties"]["events"] = [
        {
            "at": e.at,
            "actor": e.actor.username if e.actor_id else None,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "note": e.note,
            "organisation": _org(e.organisation),
        }
        for e in events
    ]
    feature["properties"].update(detail_extras(case, user, feature["properties"]["events"], [e.pk for e in events]))
    return feature


class OrganisationRefSerializer(serializers.Serializer):
    uscc = serializers.CharField()
    name = serializers.CharField()


class CaseEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True)
    action = serializers.CharField()
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField()
    note = serializers.CharField(allow_blank=True)
    organisation = OrganisationRefSerializer(allow_null=True)
    photos = serializers.ListField(child=serializers.CharField(), help_text="URLs of the step's photos")


class GridStaffSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    level_name = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField(allow_blank=True)
    duty = serializers.CharField(allow_blank=True)


class CasePropertiesSerializer(clock_api.ClockPropertiesSerializer):
    """Documentation of the answer (built by case_properties / _detail)."""

    number = serializers.CharField()
    state = serializers.ChoiceField(choices=list(workflow.STATES))
    state_code = serializers.IntegerField()
    state_name = serializers.CharField()
    class_code = serializers.CharField()
    class_name = serializers.CharField()
    source = serializers.ChoiceField(choices=Source.values)
    severity = serializers.ChoiceField(choices=Severity.values)
    description = serializers.CharField(allow_blank=True)
    component_code = serializers.CharField(allow_null=True)
    grid_code = serializers.CharField(allow_blank=True)
    community_code = serializers.CharField(allow_blank=True)
    street_code = serializers.CharField(allow_blank=True)
    assigned_org = OrganisationRefSerializer(allow_null=True)
    escalation_level = serializers.IntegerField(help_text="0 网格, 1 社区, 2 街道, 3 区: who answers when unclaimed")
    grid_staff = GridStaffSerializer(many=True, required=False, help_text="detail answers: who answers per level")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    next_actions = serializers.ListField(child=serializers.CharField(), help_text="what this user may do next")
    events = CaseEventSerializer(many=True, required=False, help_text="the timeline (detail answers only)")
    possible_duplicates = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="report answers: open cases of the same class within 50 m in the last 24 h",
    )
    reporters = serializers.ListField(child=serializers.DictField(), required=False, help_text="detail answers")
    merged_into = serializers.CharField(allow_null=True, required=False, help_text="the case this one was merged into")
    merged_from = serializers.ListField(child=serializers.CharField(), required=False)


class CaseSerializer(serializers.Serializer):
    """A case as a GeoJSON Feature (id = the case number)."""

    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.CharField()
    geometry = serializers.JSONField(help_text="GeoJSON Point, EPSG:4490 lon/lat")
    properties = CasePropertiesSerializer()


class ReportSerializer(serializers.Serializer):
    class_code = serializers.CharField(max_length=12)
    point = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        help_text="x, y (lon, lat for geographic CRSs) in `crs`",
    )
    crs = serializers.CharField(max_length=60, default="EPSG:4490", help_text="EPSG:4490, 4326, 4513-4554, GCJ02, BD09")
    description = serializers.CharField(max_length=services.DESCRIPTION_MAX, allow_blank=True, default="")
    component_code = serializers.CharField(max_length=17, required=False, allow_null=True)
    source = serializers.ChoiceField(choices=Source.values, required=False)
    severity = serializers.ChoiceField(choices=Severity.values, default=Severity.NORMAL)
    client_token = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="repeat a report with the same token: one case (200 the second time)",
    )
    photos = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=50, required=False)
    reporter_name = serializers.CharField(max_length=50, required=False, allow_blank=True, help_text="a caller's name")
    reporter_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class ActionSerializer(clock_api.ExtensionFields):
    note = serializers.CharField(max_length=services.NOTE_MAX, allow_blank=True, default="")
    organisation = serializers.CharField(max_length=18, required=False, help_text="USCC: dispatch or reassign to")
    photos = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=50, required=False)
    target = serializers.CharField(max_length=14, required=False, help_text="merge: number of the case kept")


class CaseList(APIView):
    pagination_class = FeaturePagination

    @extend_schema(parameters=FILTER_PARAMS + clock_api.PARAMS, responses=with_errors({200: feature_page("Case")}))
    def get(self, request):
        qs = filter_cases(selectors.visible_cases(request.user), request.query_params)
        paginator = self.pagination_class()
        qs = qs.defer("component__geom", "component__attributes", "component__note")  # a page needs the code only
        page = paginator.paginate_queryset(clock_api.filter_and_order(qs, request.query_params), request, view=self)
        clock_api.attach(page)
        return paginator.get_paginated_response({"features": [to_feature(c, request.user) for c in page]})

    @extend_schema(
        request=ReportSerializer, responses=with_errors({201: CaseSerializer, 200: CaseSerializer}, forbidden=True)
    )
    def post(self, request):
        body = ReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            case = services.report_case(request.user, **body.validated_data)
        except services.ServiceError as exc:
            return _refused(exc)
        answer = _detail(selectors.case_with_events(request.user, case.number) or case, request.user)
        answer["properties"]["possible_duplicates"] = list(
            selectors.possible_duplicates(request.user, case).values_list("number", flat=True)[:20]
        )
        return Response(answer, status=200 if case.repeated else 201)


def _visible(user, number: str) -> Case:
    case = selectors.case_with_events(user, number) if number.isascii() and number.isdigit() else None
    if case is None:
        raise NotFound(f"no case {number}")
    return case


class CaseDetail(APIView):
    @extend_schema(responses=with_errors({200: CaseSerializer}, bad_request=False, not_found=True))
    def get(self, request, number):
        return Response(_detail(_visible(request.user, number), request.user))


class CaseAction(APIView):
    @extend_schema(
        request=ActionSerializer,
        responses=with_errors({200: CaseSerializer, 409: CONFLICT}, forbidden=True, not_found=True),
    )
    def post(self, request, number, action):
        case = _visible(request.user, number)
        body = ActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        organisation = None
        uscc = body.validated_data.get("organisation")
        if uscc is not None:
            organisation = Organisation.objects.filter(uscc=uscc).first()
            if organisation is None:
                raise ClientError(f"organisation: no organisation with USCC {uscc!r}", field="organisation")
        try:
            data = body.validated_data
            case = services.act(
                request.user,
                case,
                action,
                data["note"],
                organisation,
                data.get("photos"),
                data.get("target"),
                extension=clock_api.extension_of(data),
            )
        except services.ServiceError as exc:
            return _refused(exc)
        # The acting user's answer even when the step took the case out of their queue (回退).
        return Response(_detail(case, request.user))
