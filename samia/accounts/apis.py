from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from samia.accounts import serializers as s
from samia.accounts import services
from samia.accounts.backends import AccountBlocked, LoginThrottled, client_ip, credentials_check
from samia.accounts.identity import user_for_token
from samia.accounts.models import User
from samia.api import ApiView
from samia.rls.access import Open, reads, writes
from samia.schema import error_responses


def token_pair_for(user: User) -> dict:
    """Issue a refresh and access token pair that carries the user's id and role."""
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class TokenObtainView(ApiView):
    access = {"POST": Open("login: the credentials are the identity")}

    @extend_schema(
        request=s.TokenRequestSerializer,
        responses={200: s.TokenPairSerializer, **error_responses(400, 401, 403, 429)},
        summary="Log in with email and password (and, for staff, a one-time code)",
        description="A right password for a blocked account answers 403 `account_blocked` with `details.action_id` "
        "(the block) and `details.appealable`; appeal it at POST /auth/appeal. A wrong password is always 401.",
        auth=[],
    )
    def post(self, request):
        data = self.parse(s.TokenRequestSerializer, request.data)
        request._request.commit_on_error = True  # keep a failure's audit entry and its device's throttling state
        try:
            user = credentials_check(
                email=data["email"], password=data["password"], ip=client_ip(request), otp_code=data.get("otp", "")
            )
        except LoginThrottled as throttled:
            raise Throttled(wait=throttled.retry_after, detail="Too many failed logins; try again later.") from None
        except AccountBlocked:
            request._request.commit_on_error = True  # keep the audit entry of the failure
            raise
        if user is None:
            request._request.commit_on_error = True  # keep the audit entry of the failure
            raise AuthenticationFailed("No active account matches these credentials.")
        return Response(token_pair_for(user))


class TokenRefreshView(ApiView):
    access = {"POST": Open("token refresh: the refresh token is the identity")}

    @extend_schema(
        request=s.RefreshRequestSerializer,
        responses={200: s.AccessTokenSerializer, **error_responses(400, 401)},
        summary="Exchange a refresh token for a new access token",
        auth=[],
    )
    def post(self, request):
        data = self.parse(s.RefreshRequestSerializer, request.data)
        try:
            refresh = RefreshToken(data["refresh"])
        except TokenError:
            raise AuthenticationFailed("The refresh token is invalid or expired.") from None
        user = user_for_token(refresh)
        if user is None:
            raise AuthenticationFailed("The refresh token no longer grants access; log in again.")
        return Response({"access": str(refresh.access_token)})


class MeView(ApiView):
    access = {"GET": reads("accounts_user"), "PATCH": writes("accounts_user", "update")}

    @extend_schema(responses={200: s.ProfileSerializer, **error_responses(401)}, summary="Your profile")
    def get(self, request):
        return Response(s.ProfileSerializer(request.user).data)

    @extend_schema(
        request=s.ProfileSerializer,
        responses={200: s.ProfileSerializer, **error_responses(400, 401)},
        summary="Change your profile (role and email are not writable)",
    )
    def patch(self, request):
        changes = self.parse(s.ProfileChangeSerializer, request.data)
        user = services.profile_update(identity=self.identity, changes=changes)
        return Response(s.ProfileSerializer(user).data)
