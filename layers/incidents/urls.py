from django.urls import path

from . import api, escalation_api

urlpatterns = [
    *escalation_api.urlpatterns,  # before incidents/<number>/, which would take "notifications"
    path("incidents/", api.CaseList.as_view(), name="incident-list"),
    path("incidents/<str:number>/", api.CaseDetail.as_view(), name="incident-detail"),
    path("incidents/<str:number>/actions/<str:action>/", api.CaseAction.as_view(), name="incident-action"),
]
