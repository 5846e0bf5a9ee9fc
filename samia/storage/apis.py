from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from samia import storage
from samia.api import ApiView
from samia.exceptions import DomainError
from samia.rls.access import Open
from samia.schema import error_responses


class LinkRefused(DomainError):
    code = "forbidden"
    status = 403
    default_message = "This link is not valid: it was altered, it expired, or it was issued to someone else."


class StreamedFile(FileResponse):
    # Django's default of 4 KiB makes a large download one Python iteration per page.
    block_size = 1024 * 1024


class FileView(ApiView):
    access = {"GET": Open("signed link: the signature is the authority")}

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="the file, streamed"),
            403: error_responses(403)[403],
            410: error_responses(410)[410],
        },
        summary="A private file through a signed link (local storage); the link expires",
        auth=[{}, {"jwtAuth": []}],
    )
    def get(self, request, token):
        try:
            handle, content_type = storage.file_open(token=token, user_id=self.identity.user_id)
        except storage.SignatureInvalid as error:
            raise LinkRefused(reason=error.code) from None
        response = StreamedFile(handle, content_type=content_type or "application/octet-stream")
        response["Cache-Control"] = "private, no-store"
        # A stored file is data, never a page of this origin: no scripts, no type guessing.
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
        response["X-Content-Type-Options"] = "nosniff"
        return response
