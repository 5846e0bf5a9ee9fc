"""DRF authentication that reports what the RLS middleware already resolved."""

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed


class BoundIdentityAuthentication(BaseAuthentication):
    """Authenticate with the bearer token that the middleware verified and bound."""

    def authenticate(self, request):
        django_request = request._request
        error = getattr(django_request, "bearer_error", None)
        if error:
            raise AuthenticationFailed(error)
        user = getattr(django_request, "bearer_user", None)
        if user is None:
            return None
        return user, None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
