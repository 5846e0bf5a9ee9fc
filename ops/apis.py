from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from ops import selectors, services
from ops import serializers as s
from samia.api import ApiView
from samia.rls.access import reads, writes
from samia.schema import error_responses
from samia.secrets import catalog


class SecretListView(ApiView):
    access = {"GET": reads("ops_secretrotation")}

    @extend_schema(
        responses={200: s.SecretListSerializer, **error_responses(401, 403)},
        summary="Keyring versions: names, key ids, fingerprints, status and dates, never a value (admins)",
    )
    def get(self, request):
        never = [{"name": name, "reason": reason} for name, reason in catalog.NEVER_ROTATED.items()]
        return Response(s.SecretListSerializer({"versions": selectors.secret_list(), "never_rotated": never}).data)


class SecretRotateView(ApiView):
    access = {"POST": writes("ops_secretrotation", "insert")}

    @extend_schema(
        request=s.RotateSerializer,
        responses={201: s.RotationSerializer, **error_responses(400, 401, 403, 404, 409, 503)},
        summary="Rotate a generated key; the previous one verifies until its grace ends (jwt, audit_signing: superadmins)",
    )
    def post(self, request):
        data = self.parse(s.RotateSerializer, request.data)
        rotation = services.secret_rotate(name=data["name"], actor=self.identity)
        return Response(s.RotationSerializer(rotation).data, status=status.HTTP_201_CREATED)


class ProviderToggleView(ApiView):
    access = {"POST": writes("ops_providerstate", "update")}

    @extend_schema(
        request=s.ToggleSerializer,
        responses={200: s.ProviderStateSerializer, **error_responses(400, 401, 403, 404)},
        summary="Switch a provider, or every campaign send (`campaigns`), on or off; sends wait, never fail",
    )
    def post(self, request):
        data = self.parse(s.ToggleSerializer, request.data)
        state = services.provider_toggle(
            name=data["provider"], enabled=data["enabled"], reason=data["reason"], actor=self.identity
        )
        return Response(s.ProviderStateSerializer(state).data)


class ProviderHealthView(ApiView):
    access = {"GET": reads("ops_providerprobe")}

    @extend_schema(
        parameters=[s.HealthQuerySerializer],
        responses={200: s.ProviderHealthSerializer(many=True), **error_responses(400, 401, 403)},
        summary="Each provider: configured, switched on, circuit, last probe (?probe=1: probe now)",
    )
    def get(self, request):
        data = self.parse(s.HealthQuerySerializer, request.query_params)
        return Response(s.ProviderHealthSerializer(selectors.provider_health(live=data["probe"]), many=True).data)
