"""The user's own inbox of case messages (黄灯, 红灯, 升级, 新派遣): /api/incidents/notifications/.
Each user sees only their own messages; another user's message is a 404, like one that does not exist."""

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_core.errors import ClientError
from gis_core.openapi import with_errors

from . import notify
from .escalation_models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.number", help_text="the case number")
    kind_name = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Notification
        fields = ["id", "case", "kind", "kind_name", "message", "created_at", "read_at"]


class InboxPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "unread": self.unread,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )


def _unread_only(params) -> bool:
    text = params.get("unread")
    if text is None:
        return False
    if text.lower() not in ("true", "false"):
        raise ClientError("unread: true or false", field="unread")
    return text.lower() == "true"


class NotificationList(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="true: unread messages only")],
        responses=with_errors(
            {
                200: inline_serializer(
                    "NotificationPage",
                    {
                        "count": serializers.IntegerField(),
                        "unread": serializers.IntegerField(help_text="unread messages in all"),
                        "next": serializers.URLField(allow_null=True),
                        "previous": serializers.URLField(allow_null=True),
                        "results": NotificationSerializer(many=True),
                    },
                )
            }
        ),
    )
    def get(self, request):
        """The user's messages, unread first, newest first within each."""
        mine = Notification.objects.filter(recipient=request.user)
        qs = mine.filter(read_at__isnull=True) if _unread_only(request.query_params) else mine
        qs = (
            qs.select_related("case")
            .annotate(unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()))
            .order_by("-unread", "-created_at", "-id")
        )
        paginator = InboxPagination()
        paginator.unread = mine.filter(read_at__isnull=True).count()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationRead(APIView):
    @extend_schema(
        request=None, responses=with_errors({200: NotificationSerializer}, bad_request=False, not_found=True)
    )
    def post(self, request, pk: int):
        """Marks the message read (again is harmless: the first reading time stays)."""
        n = notify.mark_read(request.user, pk)
        if n is None:
            raise NotFound(f"no notification {pk}")
        return Response(NotificationSerializer(n).data)


urlpatterns = [
    path("incidents/notifications/", NotificationList.as_view(), name="incident-notifications"),
    path("incidents/notifications/<int:pk>/read/", NotificationRead.as_view(), name="incident-notification-read"),
]
