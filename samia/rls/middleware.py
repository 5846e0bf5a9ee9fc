"""Run every request's database work as the app role, bound to the caller's identity."""

from django.db import transaction

from samia.accounts.identity import resolve_request
from samia.logging import bind_actor
from samia.rls.binding import bound

# Paths that never touch the database (liveness), so they need no binding.
UNBOUND_PATHS = frozenset({"/healthz"})


class RowLevelSecurityMiddleware:
    """Open one transaction per request, bind anonymous, resolve the caller, then bind the caller.

    A response of 400 or more rolls the transaction back, unless the view marked it
    with `commit_on_error` (e.g. a failed login whose audit entry must stay).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in UNBOUND_PATHS:
            return self.get_response(request)
        with transaction.atomic(), bound() as binding:
            identity = resolve_request(request)
            if identity.user_id is not None:
                binding.switch(identity)
                bind_actor(identity.user_id, identity.role)
            request.rls_identity = identity
            response = self.get_response(request)
            if response.status_code >= 400 and not getattr(response, "commit_on_error", False):
                transaction.set_rollback(True)
        return response
