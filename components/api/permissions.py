"""REST permissions: each reads its answer from the role matrix (components.roles.MATRIX)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .. import roles


def _allows(action: str, doc: str, reads: bool = True):
    """A permission class: reads for every reading role (when `reads`), writes for `action`'s roles."""

    class Allows(BasePermission):
        __doc__ = doc

        def has_permission(self, request, view):
            if reads and request.method in SAFE_METHODS:
                return roles.can_read(request.user)
            return roles.may(request.user, action)

    Allows.__name__ = Allows.__qualname__ = f"Allows_{action}"
    return Allows


ReadOrRegister = _allows("create", "Reads for every role; registering for the roles the matrix allows.")
CanTransfer = _allows("transfer", "Ownership transfers.")
CanRetire = _allows("retire", "Retiring components.")
CanChangeState = _allows("change_state", "State reports.", reads=False)
CanAddPhoto = _allows("photo", "Photos of components.", reads=False)


class CanEdit(BasePermission):
    """Reads for every role; a PATCH for the roles that may change some field (which fields is
    checked per field by `refused_fields`)."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return roles.can_read(request.user)
        return roles.can_edit(request.user)


def refused_fields(user, names) -> tuple[int, dict[str, str]] | None:
    """(status, {field: reason}) for the first kind of refusal among the fields a PATCH names, or
    None: organisations move only by transfer (400), other fields as the role matrix allows (403)."""
    from ..services.components import TRANSFER_ONLY

    moved = {n: TRANSFER_ONLY for n in names if n in roles.OWNERSHIP_FIELDS}
    if moved:
        return 400, moved
    denied = {
        n: "your role may not change this field"
        for n in names
        if n in roles.PATCH_FIELDS and not roles.may(user, f"update.{n}")
    }
    if denied:
        return 403, denied
    return None


class IsAdministrator(BasePermission):
    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return roles.can_read(request.user)
        return roles.ADMINISTRATOR in roles.roles_of(request.user)


class CanRead(BasePermission):
    """Reads, including searches that POST their geometry."""

    def has_permission(self, request, view):
        return roles.can_read(request.user)
