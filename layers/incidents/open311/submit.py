"""POST requests: a form-encoded Open311 service request checked field by field and made into a case
through services.report_case (source open311, reporter = the client's account), in one transaction
with the row that keeps what the case has no field for."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction

from gis_core.errors import ServiceError
from gis_core.text import bad_character, finite_float

from .. import services
from ..models import Case, Severity, Source
from . import catalogue
from .models import Open311Client, Open311Request

ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,50})\](\[\])?$")
TOKEN_HEADER = "HTTP_X_OPEN311_TOKEN"
# Our field names, as an Open311 client knows them.
FIELD_NAMES = {"class_code": "service_code", "point": "lat/long", "component_code": "attribute[component_id]"}
TEXT_LIMITS = {
    "address_string": 500,
    "first_name": 100,
    "last_name": 100,
    "device_id": 100,
    "account_id": 100,
}
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,38}$")


def _one(data, name: str) -> str:
    """A single-valued form field ('' when absent): a repeated field is refused, not silently cut."""
    values = data.getlist(name)
    if len(values) > 1:
        raise ServiceError({name: "give it once"})
    return values[0].strip() if values else ""


def _plain(data, name: str, limit: int) -> str:
    value = _one(data, name)
    reason = bad_character(value)
    if reason:
        raise ServiceError({name: reason})
    if len(value) > limit:
        raise ServiceError({name: f"at most {limit} characters"})
    return value


def _coordinates(data) -> tuple[float, float]:
    lat, lon = _one(data, "lat"), _one(data, "long")
    if not lat and not lon:
        if _one(data, "address_string") or _one(data, "address_id"):
            raise ServiceError({"lat/long": "addresses are not geocoded here: send lat and long (WGS-84)"})
        raise ServiceError({"lat/long": "a location is required: lat and long (WGS-84)"})
    if not lat or not lon:
        raise ServiceError({"lat/long": "send both lat and long"})
    try:
        return finite_float(lat), finite_float(lon)
    except ValueError:
        raise ServiceError({"lat/long": "must be decimal degrees"}) from None


def _attributes(data, cls) -> dict:
    defined = {a.code: a for a in catalogue.attributes_of(cls)}
    given = {}
    for key in data:
        m = ATTRIBUTE.match(key)
        if m is None:
            if key.startswith("attribute"):
                raise ServiceError({key: "write attributes as attribute[code]=value"})
            continue
        code = m.group(1)
        attribute = defined.get(code)
        if attribute is None:
            known = ", ".join(defined) or "none"
            raise ServiceError(
                {f"attribute[{code}]": f"service {cls.code} has no attribute {code!r} (it has: {known})"}
            )
        values = [v.strip() for v in data.getlist(key)]
        if len(values) != 1 or code in given:
            raise ServiceError({f"attribute[{code}]": "takes one value"})
        value = values[0]
        if attribute.values and value and value not in {k for k, _ in attribute.values}:
            keys = ", ".join(k for k, _ in attribute.values)
            raise ServiceError({f"attribute[{code}]": f"unknown value {value!r}: one of {keys}"})
        if bad_character(value) or len(value) > 100:
            raise ServiceError({f"attribute[{code}]": "at most 100 plain characters"})
        given[code] = value
    for attribute in defined.values():
        if attribute.required and not given.get(attribute.code):
            raise ServiceError({f"attribute[{attribute.code}]": "is required for this service"})
    return given


def _contact(data) -> dict:
    contact = {name: _plain(data, name, limit) for name, limit in TEXT_LIMITS.items()}
    email = _plain(data, "email", 254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ServiceError({"email": "not an e-mail address"}) from None
    phone = _plain(data, "phone", 40)
    if phone and not PHONE.match(phone):
        raise ServiceError({"phone": "digits, spaces, +, - and brackets only"})
    media_url = _plain(data, "media_url", 1000)
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise ServiceError({"media_url": "must be an http(s) URL"}) from None
    return {**contact, "email": email, "phone": phone, "media_url": media_url}


def _token(data, meta) -> str:
    token = _one(data, "token") or (meta.get(TOKEN_HEADER) or "").strip()
    if token and (len(token) > 64 or not token.isascii() or not token.isprintable() or "/" in token):
        raise ServiceError({"token": "at most 64 printable ASCII characters, no '/'"})
    return token


def _renamed(exc: ServiceError) -> ServiceError:
    renamed = ServiceError({FIELD_NAMES.get(k, k): v for k, v in exc.errors.items()})
    renamed.status = exc.status
    return renamed


@transaction.atomic
def submit(client: Open311Client, data, meta=None) -> tuple[Case, bool]:
    """(case, repeated). `data` is the POST QueryDict; `meta` the request headers (for the token).
    A token this client used before gives its case again and writes nothing; a token another
    client used is refused (tokens name one request across all clients, see GET tokens)."""
    token = _token(data, meta or {})
    if token:
        earlier = Open311Request.objects.filter(token=token).select_related("case").first()
        if earlier is not None:
            if earlier.client_id != client.pk:
                raise ServiceError({"token": "already names another client's request: use a random token (a UUID)"})
            return earlier.case, True
    code = _one(data, "service_code")
    if not code:
        raise ServiceError({"service_code": "not provided"})
    cls = catalogue.find_leaf(code)
    if cls is None:
        raise ServiceError({"service_code": f"no service {code!r}: see services.json"})
    lat, lon = _coordinates(data)
    attributes = _attributes(data, cls)
    contact = _contact(data)
    description = _one(data, "description")
    try:
        case = services.report_case(
            client.user,
            class_code=cls.code,
            point=(lon, lat),
            crs="EPSG:4326",
            description=description,
            component_code=attributes.get("component_id") or None,
            source=Source.CITIZEN,
            severity=attributes.get("severity") or Severity.NORMAL,
            client_token=token or None,
        )
    except ServiceError as exc:
        raise _renamed(exc) from None
    if case.repeated:  # the same token raced in on another connection and won
        return case, True
    try:
        with transaction.atomic():
            Open311Request.objects.create(case=case, client=client, token=token, attributes=attributes, **contact)
    except IntegrityError:
        # Another client took the token at the same moment: nothing of this request stays.
        raise ServiceError({"token": "already names another client's request: use a random token (a UUID)"}) from None
    return case, False
