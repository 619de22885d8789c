from django.urls import include, path

from . import api

urlpatterns = [
    path("incidents/", api.CaseList.as_view(), name="incident-list"),
    path("", include("layers.incidents.classes_urls")),  # viewer; before <number>/, which would take "classes"
    path("incidents/<str:number>/", api.CaseDetail.as_view(), name="incident-detail"),
    path("incidents/<str:number>/actions/<str:action>/", api.CaseAction.as_view(), name="incident-action"),
]
