"""Entry points the pool pickles by name. Kept free of imports so that naming them in the Django
process (pickle looks the functions up) never imports mapnik there; the render process imports
tiles.raster.worker on first call."""


def init():
    from . import worker

    worker.init()


def render(job):
    from . import worker

    return worker.render(job)


def ready():
    return True
