"""OpenAPI helpers: the shared error shape, cursor pages and which paths the schema covers."""

from functools import cache

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
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
    410: "The object was removed.",
    413: "The upload is larger than allowed; `details.max_bytes` is the limit.",
    415: "The file's type, measured from its bytes, is not accepted here.",
    429: "Too many attempts; see Retry-After.",
    503: "A dependency is unavailable.",
}


def error_responses(*codes: int) -> dict:
    return {code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]) for code in codes}


CURSOR_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The position from a `next` or `previous` URL."),
    OpenApiParameter("page_size", int, description="Rows per page (default 50; capped per list)."),
]


@cache
def paginated(serializer_class):
    """The response of a `self.paginated` list: one cursor page `{next, previous, results}` of `serializer_class`."""
    name = serializer_class.__name__.removesuffix("Serializer")
    page = inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "next": serializers.URLField(allow_null=True, help_text="The next page's URL; null on the last page."),
            "previous": serializers.URLField(allow_null=True, help_text="The previous page's URL; null on the first."),
            "results": serializer_class(many=True),
        },
    )
    page.cursor_page = True
    return page


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema; a cursor page's operation is named `<path>_list`, like any list."""

    def get_operation_id(self):
        operation_id = super().get_operation_id()
        responses = self.get_response_serializers()
        if self.method == "GET" and isinstance(responses, dict) and getattr(responses.get(200), "cursor_page", False):
            return operation_id.removesuffix("_retrieve") + "_list"
        return operation_id


def exclude_backoffice(endpoints):
    """Keep the staff back office (Django Admin) out of the API schema."""
    return [e for e in endpoints if not e[0].startswith("/backoffice/")]


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "samia.accounts.authentication.BoundIdentityAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
