"""The upload of an AR asset: streamed to a temporary file and hashed on the way, never held in memory."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from ar.lineage import TooLarge

# What a multipart body may carry beyond the file itself (boundaries, headers, the kind field).
ENVELOPE_BYTES = 64 * 1024


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Write each uploaded file to a temporary file, hashing it as it arrives; refuse it past AR_MAX_UPLOAD_BYTES."""

    chunk_size = 256 * 1024

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.digest = hashlib.sha256()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.AR_MAX_UPLOAD_BYTES:
            raise TooLarge(max_bytes=settings.AR_MAX_UPLOAD_BYTES)
        self.digest.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self.digest.hexdigest()
        return uploaded


def content_length_check(content_length: str | None) -> None:
    """Refuse (413) a body whose Content-Length alone says it cannot fit, before reading any of it."""
    try:
        declared = int(content_length or 0)
    except ValueError:
        return
    if declared > settings.AR_MAX_UPLOAD_BYTES + ENVELOPE_BYTES:
        raise TooLarge(max_bytes=settings.AR_MAX_UPLOAD_BYTES)
