"""OpenAPI helpers: the shared error shape and which paths the schema covers."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "request_id": serializers.CharField(),
                "details": serializers.DictField(required=False),
            },
        )
    },
)

_DESCRIPTIONS = {
    400: "The input is invalid; `details` names each field.",
    401: "No valid access token.",
    403: "Your role may not do this.",
    404: "No such object, or not one you may see.",
    409: "The object is not in a state that allows this; `details.status` is its current state.",
    429: "Too many attempts; see Retry-After.",
    503: "A dependency is unavailable.",
}


def error_responses(*codes: int) -> dict:
    return {code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]) for code in codes}


def exclude_backoffice(endpoints):
    """Keep the staff back office (Django Admin) out of the API schema."""
    return [e for e in endpoints if not e[0].startswith("/backoffice/")]


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "samia.accounts.authentication.BoundIdentityAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
