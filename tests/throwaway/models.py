from django.contrib.gis.db import models


class Pin(models.Model):
    name = models.CharField(max_length=50)
    geom = models.PointField(srid=4490)
