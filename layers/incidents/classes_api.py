"""GET /api/incidents/classes/: the case classes a report may name (active sub-classes of the newest
catalogue version), optionally only those about one component class, so the viewer's report form
offers 路灯不亮或损坏 for a streetlight and nothing about manholes."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from components.models import ComponentClass
from gis_core.errors import ClientError
from gis_core.openapi import with_errors

from .models import CaseClass

CLASS_ROW = inline_serializer(
    "CaseClassRow",
    {
        "code": serializers.CharField(),
        "name": serializers.CharField(),
        "major_code": serializers.CharField(allow_null=True),
        "major_name": serializers.CharField(allow_null=True),
        "kind": serializers.ChoiceField(choices=CaseClass.Kind.values),
        "component_class": serializers.CharField(allow_null=True),
        "requires_asset": serializers.BooleanField(),
        "version": serializers.CharField(),
    },
    many=True,
)


def reportable_classes(component_class: str | None = None):
    """Leaf classes (a report must name a sub-class), newest version only, in code order."""
    qs = CaseClass.objects.filter(active=True, children__isnull=True).select_related("parent", "component_class")
    newest = qs.order_by("-version").values_list("version", flat=True).first()
    qs = qs.filter(version=newest)
    if component_class is not None:
        qs = qs.filter(component_class__code=component_class)
    return qs.order_by("code")


class CaseClassList(APIView):
    pagination_class = None

    @extend_schema(
        parameters=[OpenApiParameter("component_class", str, description="a component class code, e.g. 0118")],
        responses=with_errors({200: CLASS_ROW}),
    )
    def get(self, request):
        wanted = request.query_params.get("component_class")
        if wanted is not None and not ComponentClass.objects.filter(code=wanted).exists():
            raise ClientError(f"no component class {wanted[:20]!r}", field="component_class")
        rows = [
            {
                "code": c.code,
                "name": c.name,
                "major_code": c.parent.code if c.parent_id else None,
                "major_name": c.parent.name if c.parent_id else None,
                "kind": c.kind,
                "component_class": c.component_class.code if c.component_class_id else None,
                "requires_asset": c.requires_asset,
                "version": c.version,
            }
            for c in reportable_classes(wanted)
        ]
        return Response(rows)
