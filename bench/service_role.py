"""Benchmark only: the shipped middleware minus the role switch, so the same views run as the service role.

The identity is resolved the same way and the declarations still scope the querysets; only
Postgres's own policies are out of the way. Never installed outside bench/.
"""

from django.db import transaction

from samia.accounts.identity import claimed_identity, confirmed_identity


class ServiceRoleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with transaction.atomic():
            request.rls_identity = confirmed_identity(request, claimed_identity(request))
            response = self.get_response(request)
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response
