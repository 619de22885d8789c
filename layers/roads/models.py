"""A road centre line. Lines are kept as MultiLineString (a LineString is promoted on import);
`geom_3857` is a stored generated column (migration 0001) so tiles need no transform per request."""

from django.contrib.gis.db import models


class Road(models.Model):
    name = models.CharField("名称", max_length=100, blank=True, default="")
    level = models.CharField("等级", max_length=30, blank=True, default="", help_text="主干路、次干路、支路 ……")
    width_m = models.FloatField("宽度(米)", null=True, blank=True)
    geom = models.MultiLineStringField(srid=4490)
    source = models.CharField("来源", max_length=200, blank=True, default="", help_text="导入来源的文件与图层")

    class Meta:
        verbose_name = "道路"
        verbose_name_plural = "道路"
        ordering = ["id"]

    def __str__(self):
        return self.name or f"road {self.pk}"
