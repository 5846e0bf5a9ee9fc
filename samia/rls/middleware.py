"""Run every request's database work as the app role, bound to the caller's identity."""

from django.db import transaction

from samia.accounts.identity import claimed_identity, confirmed_identity
from samia.logging import bind_actor
from samia.rls.binding import bound

# Paths that never touch the database (liveness), so they need no binding.
UNBOUND_PATHS = frozenset({"/healthz"})


class RowLevelSecurityMiddleware:
    """Open one transaction per request bound to the caller's identity.

    The identity a bearer token claims is bound first (one statement), then checked against
    the account; a claim that does not hold falls back to no identity before the view runs.
    A response of 400 or more rolls the transaction back, unless the view marked it with
    `commit_on_error` on the request or response (e.g. a failed login whose audit entry must stay).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in UNBOUND_PATHS:
            return self.get_response(request)
        claimed = claimed_identity(request)
        with bound(claimed) as binding:
            identity = confirmed_identity(request, claimed)
            if identity != claimed:
                binding.switch(identity)
            request.rls_identity = identity
            if identity.user_id is not None:
                bind_actor(identity.user_id, identity.role)
            response = self.get_response(request)
            keep = getattr(request, "commit_on_error", False) or getattr(response, "commit_on_error", False)
            if response.status_code >= 400 and not keep:
                transaction.set_rollback(True)
        return response
