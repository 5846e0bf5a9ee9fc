"""The translation API (admins and superadmins): translate a batch, report parity, review."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from i18n import selectors, services
from i18n import serializers as s
from i18n.policies import TRANSLATIONS_TABLE
from samia.api import ApiView
from samia.rls.access import reads, writes
from samia.schema import error_responses


class TranslateView(ApiView):
    access = {"POST": writes(TRANSLATIONS_TABLE, "insert")}

    @extend_schema(
        request=s.TranslateSerializer,
        responses={200: s.TranslateResultSerializer, **error_responses(400, 401, 403, 409, 503)},
        summary="Machine-translate one field of up to 200 objects (empty or auto targets; force for the rest)",
    )
    def post(self, request):
        data = self.parse(s.TranslateSerializer, request.data)
        return Response(services.translate_batch(identity=self.identity, **data))


class StatusView(ApiView):
    access = {"GET": reads(TRANSLATIONS_TABLE)}

    @extend_schema(
        parameters=[s.StatusQuerySerializer],
        responses={200: s.StatusSerializer, **error_responses(400, 401, 403)},
        summary="Arabic/English parity per model, field and language; campaign templates; gettext catalogs",
    )
    def get(self, request):
        query = self.parse(s.StatusQuerySerializer, request.query_params)
        return Response(selectors.translation_status(identity=self.identity, model=query.get("model")))


class ReviewView(ApiView):
    access = {"POST": writes(TRANSLATIONS_TABLE, "update")}

    @extend_schema(
        request=s.ReviewSerializer,
        responses={200: s.ReviewResultSerializer, **error_responses(400, 401, 403)},
        summary="Mark translations reviewed or approved (a stale one is refused)",
    )
    def post(self, request):
        data = self.parse(s.ReviewSerializer, request.data)
        return Response(services.translation_review(identity=self.identity, **data))
