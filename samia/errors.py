"""One JSON error shape for every 4xx and 5xx:

{"error": {"code": "...", "message": "...", "details": {...}, "request_id": "..."}}

except under /backoffice/, where people read the error pages: those are HTML (the same
status, message and request id), drawn by backoffice/templates/backoffice/error.html.

and the JSON parser that turns bodies Python or Postgres cannot take (nested too deep, NUL
characters) into a 400 before any view sees them.
"""

from django.core import exceptions as django
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from samia.exceptions import DomainError
from samia.logging import current_request_id

# Django's own message for a failed .get(): it names the model, so it never reaches a client.
_DJANGO_MISSING = "matching query does not exist"


def error_body(code: str, message: str, details=None) -> dict:
    body = {"code": code, "message": message, "request_id": current_request_id()}
    if details:
        body["details"] = details
    return {"error": body}


_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


class _Domain(exceptions.APIException):
    """A domain error on its way to the response: its status, code, message and details."""

    def __init__(self, error: DomainError):
        super().__init__(error.message, error.code)
        self.status_code = error.status
        self.default_code = error.code
        self.extra = error.details
        self.wait = getattr(error, "retry_after", None)  # answered as Retry-After


def as_api_exception(exc: Exception) -> exceptions.APIException | None:
    """Translate a Django or domain exception into its API form; None for what is a server error."""
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound(gettext("Not found."))
    if isinstance(exc, django.ObjectDoesNotExist):
        message = str(exc)
        return exceptions.NotFound(gettext("Not found.") if not message or _DJANGO_MISSING in message else message)
    if isinstance(exc, django.PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, django.ValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, DomainError):
        return _Domain(exc)
    return None


def api_exception_handler(exc, context):
    """Render DRF, Django and domain errors in the shared JSON shape; leave the rest to handler500."""
    exc = as_api_exception(exc)
    if exc is None:
        return None
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), None) or exc.default_code
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(code, gettext("The request is invalid; see details."), details)
    else:
        # A message whose msgid the catalogs hold (marked where it is raised) is answered in the caller's language.
        message = str(exc.detail)
        body = error_body(code, gettext(message) if message else message, getattr(exc, "extra", None))
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response(body, status=exc.status_code, headers=headers)


# No request body of this API nests deeper; the JSON decoder recurses once per level.
MAX_JSON_DEPTH = 32


NUL_MESSAGE = "Null characters are not allowed."


def nul_fields(items) -> list[str]:
    """The names among (name, value) pairs whose name or any string in whose value holds a NUL character."""
    return sorted({name for name, value in items if "\x00" in name or _holds_nul(value)})


def _holds_nul(value) -> bool:
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(item for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _depth(data) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return deepest


class JsonParser(JSONParser):
    """DRF's JSON parser that answers 400 for a body nested too deep or holding a NUL character (per field)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if _depth(data) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        # Postgres text and jsonb cannot hold NUL: name the fields, as DRF's CharField does.
        bad = nul_fields(data.items() if isinstance(data, dict) else [("non_field_errors", data)])
        if bad:
            raise exceptions.ValidationError({name: [NUL_MESSAGE] for name in bad})
        return data


BACKOFFICE_PREFIX = "/backoffice/"


def _page(request, status_code: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith(BACKOFFICE_PREFIX):
        # No database and no request context: a 500 page must render whatever broke.
        context = {"status": status_code, "code": code, "message": message, "request_id": current_request_id()}
        return HttpResponse(render_to_string("backoffice/error.html", context), status=status_code)
    return JsonResponse(error_body(code, message), status=status_code)


def bad_request(request, exception=None):
    return _page(request, 400, "bad_request", gettext("The request is malformed."))


def permission_denied(request, exception=None):
    return _page(request, 403, "forbidden", gettext("You may not perform this action."))


def page_not_found(request, exception=None):
    return _page(request, 404, "not_found", gettext("Not found."))


def server_error(request):
    return _page(
        request, 500, "server_error", gettext("Internal server error; quote the request id when reporting it.")
    )


def csrf_failure(request, reason=""):
    return _page(request, 403, "csrf_failed", gettext("The CSRF check failed; reload the page and try again."))
