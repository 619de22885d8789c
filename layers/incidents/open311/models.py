"""Who may post service requests over Open311 (one account per client application), and what a
request carried that a case has no field for (contact, address text, media link, attributes, the
client's token)."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q


def hash_key(key: str) -> str:
    """Keys are 256 random bits, so one SHA-256 is enough: no dictionary to slow down."""
    return hashlib.sha256(key.encode()).hexdigest()


class Open311Client(models.Model):
    """A client application (a city app, a 12345 platform bridge). The key is shown once when made
    (`manage.py open311_client`); only its hash is kept. Its cases are reported by `user`, an account
    with no role and no password: the client's token is unique per reporter in the database."""

    name = models.CharField("名称", max_length=100, unique=True)
    key_hash = models.CharField("密钥摘要", max_length=64, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="open311_client", verbose_name="账号"
    )
    active = models.BooleanField("启用", default=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        "每分钟限额", default=30, help_text="每分钟提交次数；0 表示不限"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "Open311 接入应用"
        verbose_name_plural = "Open311 接入应用"
        constraints = [models.CheckConstraint(condition=Q(key_hash__regex=r"^[0-9a-f]{64}$"), name="open311_key_hash")]

    def __str__(self):
        return self.name

    @staticmethod
    def new_key() -> str:
        return "o311_" + secrets.token_urlsafe(32)

    @classmethod
    def by_key(cls, key) -> "Open311Client | None":
        if not isinstance(key, str) or not key or len(key) > 200:
            return None
        return cls.objects.filter(key_hash=hash_key(key), active=True).select_related("user").first()


class Open311Request(models.Model):
    """The Open311 side of a case made through POST requests. `token` is the client's own token for
    the request (form field `token` or header `X-Open311-Token`): a repeat with the same token gives the
    same case, and `GET tokens/{token}` finds its service_request_id. Tokens are unique across clients."""

    case = models.OneToOneField("incidents.Case", on_delete=models.PROTECT, related_name="open311")
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(max_length=64, blank=True)
    address_string = models.CharField(max_length=500, blank=True)
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    # A link only: the server never fetches it (no SSRF, no storage of unchecked files).
    media_url = models.URLField(max_length=1000, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Open311 请求"
        verbose_name_plural = "Open311 请求"
        constraints = [
            models.UniqueConstraint(fields=["token"], condition=~Q(token=""), name="open311_request_token_unique"),
        ]

    def __str__(self):
        return f"{self.client} {self.case_id}"
