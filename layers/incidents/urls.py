from django.urls import include, path

from . import api, escalation_api

urlpatterns = [
    path("incidents/", include("layers.incidents.reports_urls")),  # reports: before <number>
    path("", include("layers.incidents.intake_urls")),  # before <number>/: /incidents/photos/ is no case
    *escalation_api.urlpatterns,  # before incidents/<number>/, which would take "notifications"
    path("incidents/", api.CaseList.as_view(), name="incident-list"),
    path("", include("layers.incidents.classes_urls")),  # viewer; before <number>/, which would take "classes"
    path("incidents/<str:number>/", api.CaseDetail.as_view(), name="incident-detail"),
    path("incidents/<str:number>/actions/<str:action>/", api.CaseAction.as_view(), name="incident-action"),
]
