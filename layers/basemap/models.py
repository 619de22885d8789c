"""A basemap layer (one per GeoPackage layer loaded) and its features. Geometries of any type are kept
promoted to their Multi form; `geom_3857` is a stored generated column (migration 0001), as for roads."""

from django.contrib.gis.db import models

KINDS = (
    ("water", "水系"),
    ("building", "建筑"),
    ("green", "绿地"),
    ("road", "道路"),
    ("other", "其他"),
)


class BasemapLayer(models.Model):
    name = models.SlugField("名称", max_length=40, unique=True, help_text="图层目录中的图层名为 basemap_<名称>")
    title = models.CharField("标题", max_length=60)
    kind = models.CharField("类型", max_length=20, choices=KINDS, default="other", help_text="决定显示样式")
    geometry_type = models.CharField(
        "几何类型", max_length=20, help_text="MultiPolygon（面）、MultiLineString（线）、MultiPoint（点）"
    )
    source = models.CharField("来源", max_length=200, blank=True, default="")
    order = models.IntegerField("次序", default=0, help_text="数值小的先绘制（在下层）")

    class Meta:
        verbose_name = "底图图层"
        verbose_name_plural = "底图图层"
        ordering = ["order", "id"]

    def __str__(self):
        return self.title


class BasemapFeature(models.Model):
    layer = models.ForeignKey(BasemapLayer, on_delete=models.CASCADE, related_name="features")
    name = models.CharField("名称", max_length=100, blank=True, default="")
    geom = models.GeometryField(srid=4490)

    class Meta:
        verbose_name = "底图要素"
        verbose_name_plural = "底图要素"
        ordering = ["id"]
