from django.urls import path

from . import api, classes_api

urlpatterns = [
    path("incidents/classes/", classes_api.CaseClassList.as_view(), name="incident-classes"),  # viewer
    path("incidents/", api.CaseList.as_view(), name="incident-list"),
    path("incidents/<str:number>/", api.CaseDetail.as_view(), name="incident-detail"),
    path("incidents/<str:number>/actions/<str:action>/", api.CaseAction.as_view(), name="incident-action"),
]
