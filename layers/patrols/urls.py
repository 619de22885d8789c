from django.urls import path

from . import api

urlpatterns = [
    path("patrols/fixes/", api.FixBatch.as_view(), name="patrol-fixes"),
    path("patrols/workers/<str:username>/days/<str:date>/", api.WorkerDay.as_view(), name="patrol-day"),
    path("patrols/heatmap.tif", api.Heatmap.as_view(), name="patrol-heatmap"),
    path("patrols/heatmap/legend/", api.HeatmapLegend.as_view(), name="patrol-heatmap-legend"),
]
