"""One JSON error shape for every 4xx and 5xx:

{"error": {"code": "...", "message": "...", "details": {...}, "request_id": "..."}}
"""

from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from samia.logging import current_request_id


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state of the resource."

    def __init__(self, detail=None, code=None, **extra):
        super().__init__(detail, code)
        self.extra = extra


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


def api_exception_handler(exc, context):
    """Render DRF and Django errors in the shared JSON shape; leave the rest to handler500."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    if not isinstance(exc, exceptions.APIException):
        return None
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), None) or exc.default_code
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(code, "The request is invalid; see details.", details)
    else:
        body = error_body(code, str(exc.detail), getattr(exc, "extra", None))
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response(body, status=exc.status_code, headers=headers)


def _page(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def bad_request(request, exception=None):
    return _page(400, "bad_request", "The request is malformed.")


def permission_denied(request, exception=None):
    return _page(403, "forbidden", "You may not perform this action.")


def page_not_found(request, exception=None):
    return _page(404, "not_found", "Not found.")


def server_error(request):
    return _page(500, "server_error", "Internal server error; quote the request id when reporting it.")


def csrf_failure(request, reason=""):
    return _page(403, "csrf_failed", "The CSRF check failed; reload the page and try again.")
