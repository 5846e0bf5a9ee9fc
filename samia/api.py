"""The API kit every `apis.py` builds on: one base view, input parsing, one cursor paginator.

A view declares `access = {METHOD: ...}` (what the RLS guard checks), parses its input with
`self.parse`, calls one service or selector with `identity=self.identity`, and renders the
result. Services raise Django or domain errors; `samia.errors` turns them into the one shape.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from django.core.exceptions import ValidationError
from django.utils import translation
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.views import APIView

from samia.errors import NUL_MESSAGE, nul_fields
from samia.rls.registry import Identity


class Cursor(CursorPagination):
    """Cursor pages of 50 (`?page_size=` up to `max_page_size`) in a fixed, unique `ordering`."""

    page_size = 50
    page_size_query_param = "page_size"

    def __init__(self, ordering: str | tuple[str, ...] = "-id", max_page_size: int = 100):
        self.ordering = ordering
        self.max_page_size = max_page_size
        self.model = None

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """Decode `?cursor=`; refuse a position the ordering column cannot hold (a forged or damaged cursor).

        DRF checks the cursor's syntax only, so a forged position would otherwise reach Postgres.
        """
        # base64 decoding skips characters outside its alphabet: "cD0x<NUL>" would read as "p=1".
        if "\x00" in request.query_params.get(self.cursor_query_param, ""):
            raise NotFound(self.invalid_cursor_message)
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            if "\x00" in cursor.position:
                raise ValidationError("NUL")
            field.run_validators(field.to_python(cursor.position))
        except ValidationError:
            raise NotFound(self.invalid_cursor_message) from None
        return cursor


class ApiView(APIView):
    """A DRF view bound to the request's identity."""

    @cached_property
    def identity(self) -> Identity:
        """The caller as the RLS declarations see them (anonymous when not signed in)."""
        return Identity.of(self.request.user)

    def perform_authentication(self, request):
        """Authenticate, then speak the caller's profile language (anonymous callers keep Accept-Language)."""
        super().perform_authentication(request)
        language = getattr(request.user, "language", "")
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()

    def parse(self, serializer_class, data) -> dict:
        """Validate `data` (a body or query parameters) with `serializer_class`; raise 400 with details."""
        if hasattr(data, "lists"):  # query parameters; a JSON body was checked by samia.errors.JsonParser
            bad = nul_fields((name, values) for name, values in data.lists())
            if bad:
                raise serializers.ValidationError({name: [NUL_MESSAGE] for name in bad})
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def paginated(
        self,
        queryset,
        serializer_class,
        *,
        ordering: str | tuple[str, ...] = "-id",
        max_page_size: int = 100,
        context: Callable[[list], dict] | None = None,
    ):
        """Answer one cursor page of `queryset`: `{next, previous, results}`.

        `context(page)` may add serializer context computed from the page's rows.
        """
        paginator = Cursor(ordering, max_page_size)
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        extra = context(page) if context else {}
        return paginator.get_paginated_response(serializer_class(page, many=True, context=extra).data)
