from rest_framework.permissions import SAFE_METHODS, BasePermission

from .. import roles


class ReadOrRegister(BasePermission):
    """Reads for every role; creating, transferring and retiring for GIS editors and administrators."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return roles.can_read(request.user)
        return roles.can_register(request.user)


class CanEdit(BasePermission):
    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return roles.can_read(request.user)
        return roles.can_edit(request.user)


class CanChangeState(BasePermission):
    def has_permission(self, request, view):
        return roles.can_change_state(request.user)


class IsAdministrator(BasePermission):
    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return roles.can_read(request.user)
        return roles.ADMINISTRATOR in roles.roles_of(request.user)


class CanRead(BasePermission):
    """Reads, including searches that POST their geometry."""

    def has_permission(self, request, view):
        return roles.can_read(request.user)
