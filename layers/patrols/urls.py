from django.urls import path

from . import api

urlpatterns = [
    path("patrols/fixes/", api.FixBatch.as_view(), name="patrol-fixes"),
    path("patrols/workers/<str:username>/days/<str:date>/", api.WorkerDay.as_view(), name="patrol-day"),
]
