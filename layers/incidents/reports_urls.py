"""Routes of the reports part, included under /api/incidents/ before the case number route."""

from django.urls import path

from . import reports_api

urlpatterns = [
    path("reports/", reports_api.IncidentReport.as_view(), name="incident-reports"),
    path("safety-index/", reports_api.SafetyIndexList.as_view(), name="incident-safety-index"),
]
