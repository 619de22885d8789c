"""Tests share a Redis server with a running `make up`: they must never share its queue or cache keys."""

from django.conf import settings


def test_tests_have_their_own_celery_queue_and_cache_prefix():
    from gis_core.celery import app

    assert settings.ENVIRONMENT == "test"
    assert app.conf.task_default_queue == "gridcity-test"
    assert settings.CACHES["default"]["KEY_PREFIX"] == "gridcity-test"
