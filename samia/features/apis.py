"""Feature switches over the API (admins), and the gate that makes a switched-off feature absent."""

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from samia.api import ApiView
from samia.features import selectors, services
from samia.features import serializers as s
from samia.features.policies import SWITCHES_TABLE
from samia.rls.access import writes
from samia.schema import error_responses


class FeatureGated(ApiView):
    """A view of a feature behind switch `feature`: while it is off, every route answers 404 to everyone.

    Checked in `initial()`, before authentication and the declared-access guard, so an anonymous
    caller, a client and an admin all get the same 404: the feature is absent, not forbidden.
    """

    feature: str = ""

    def initial(self, request, *args, **kwargs):
        if not selectors.feature_on(self.feature):
            raise NotFound("Not found.")
        super().initial(request, *args, **kwargs)


class FeatureListView(ApiView):
    # Anyone may read a switch (the gate does), but the list is for those who may turn them: the
    # guard admits whoever may update the switch table.
    access = {"GET": writes(SWITCHES_TABLE, "update"), "POST": writes(SWITCHES_TABLE, "update")}

    @extend_schema(
        responses={200: s.FeatureSerializer(many=True), **error_responses(401, 403)},
        summary="The feature switches and whether each is on (admin, superadmin)",
    )
    def get(self, request):
        return Response(s.FeatureSerializer(selectors.feature_list(identity=self.identity), many=True).data)

    @extend_schema(
        request=s.FeatureSetSerializer,
        responses={200: s.FeatureSerializer, **error_responses(400, 401, 403, 404)},
        summary="Turn a feature switch on or off, with a reason; audited (admin, superadmin)",
        description="An unknown name is 404. Takes effect at once, in the API and in Postgres, without a restart.",
    )
    def post(self, request):
        data = self.parse(s.FeatureSetSerializer, request.data)
        switch = services.feature_set(
            identity=self.identity, name=data["name"], enabled=data["enabled"], reason=data["reason"]
        )
        return Response(s.FeatureSerializer(switch).data)
