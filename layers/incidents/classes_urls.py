from django.urls import path

from . import classes_api

urlpatterns = [path("incidents/classes/", classes_api.CaseClassList.as_view(), name="incident-classes")]
