from django.db import transaction

from gis_core.text import bad_character

from ..models import Organisation
from ..uscc import uscc_error
from ..validation import ServiceError

KINDS = set(Organisation.Kind.values)


@transaction.atomic
def upsert_organisation(
    *, uscc: str, name: str, kinds=("other",), contact_person="", phone="", address=""
) -> Organisation:
    """Creates or updates an organisation by its unified social credit code."""
    errors = {}
    reason = uscc_error(uscc)
    if reason:
        errors["uscc"] = reason
    if not name or not name.strip():
        errors["name"] = "required"
    for field, value in (("name", name), ("contact_person", contact_person), ("phone", phone), ("address", address)):
        reason = bad_character(value)
        if reason:
            errors[field] = reason
    bad_kinds = set(kinds) - KINDS
    if bad_kinds:
        errors["kinds"] = f"unknown kinds {sorted(bad_kinds)}; use {sorted(KINDS)}"
    if errors:
        raise ServiceError(errors)
    org, _ = Organisation.objects.update_or_create(
        uscc=uscc,
        defaults={
            "name": name.strip(),
            "kinds": sorted(set(kinds)),
            "contact_person": contact_person,
            "phone": phone,
            "address": address,
        },
    )
    return org
