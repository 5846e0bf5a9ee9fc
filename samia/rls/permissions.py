"""DRF guard derived from the RLS declarations."""

from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import BasePermission

from samia.rls.registry import Identity


def view_access(view, method: str):
    """Return the access a view declares for `method` (HEAD and OPTIONS follow GET)."""
    access = getattr(view, "access", None)
    if access is None:
        raise LookupError(f"{type(view).__name__} declares no access")
    method = "GET" if method in ("HEAD", "OPTIONS") else method
    if method not in access:
        raise MethodNotAllowed(method)
    return access[method]


class DeclaredAccess(BasePermission):
    """Admit the caller's role exactly when the table's declaration does for this method."""

    message = "Your role may not perform this action."

    def has_permission(self, request, view):
        return Identity.of(request.user).persona in view_access(view, request.method).roles()
