from django.urls import path

from . import api

urlpatterns = [
    path("cameras/", api.CameraList.as_view(), name="camera-list"),
    path("cameras/seeing/", api.Seeing.as_view(), name="camera-seeing"),
    path("cameras/blind-grids/", api.BlindGrids.as_view(), name="camera-blind-grids"),
    path("cameras/blind-roads/", api.BlindRoads.as_view(), name="camera-blind-roads"),
    path("cameras/export/", api.Export.as_view(), name="camera-export"),
    path("cameras/import/", api.Import.as_view(), name="camera-import"),
    path("cameras/<int:pk>/", api.CameraDetail.as_view(), name="camera-detail"),
    path("cameras/<int:pk>/history/", api.History.as_view(), name="camera-history"),
]
