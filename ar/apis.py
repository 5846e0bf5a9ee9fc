from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from ar import selectors, services
from ar import serializers as s
from ar.policies import ASSETS_TABLE, LINKS_TABLE
from ar.uploads import HashingUploadHandler, content_length_check
from samia.api import ApiView
from samia.rls.access import reads, writes
from samia.schema import CURSOR_PARAMETERS, error_responses, paginated


class AdminAssetListView(ApiView):
    access = {"GET": reads(ASSETS_TABLE), "POST": writes(ASSETS_TABLE, "insert")}
    # Multipart on this view only (the API's default is JSON): the file streams to a temporary file.
    parser_classes = [MultiPartParser]

    @extend_schema(
        parameters=[s.AssetListQuerySerializer, *CURSOR_PARAMETERS],
        responses={200: paginated(s.AssetSerializer), **error_responses(400, 401, 403, 404)},
        summary="AR assets, newest first; by kind, or linked to an order or a horoscope",
    )
    def get(self, request):
        query = self.parse(s.AssetListQuerySerializer, request.query_params)
        assets = selectors.asset_list(identity=self.identity, **query)
        return self.paginated(assets, s.AssetSerializer)

    @extend_schema(
        request={"multipart/form-data": s.AssetUploadSerializer},
        responses={
            201: s.AssetSerializer,
            200: s.AssetSerializer,
            **error_responses(400, 401, 403, 409, 413, 415, 503),
        },
        summary="Upload an AR asset (201); the same bytes again answer the stored asset (200)",
    )
    def post(self, request):
        content_length_check(request.META.get("CONTENT_LENGTH"))
        request.upload_handlers = [HashingUploadHandler(request._request)]
        data = self.parse(s.AssetUploadSerializer, request.data)
        upload = data["file"]
        asset, created = services.asset_create(
            identity=self.identity, kind=data["kind"], file=upload, sha256=getattr(upload, "sha256", "")
        )
        return Response(
            s.AssetSerializer(asset).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class AdminAssetLinkView(ApiView):
    access = {"POST": writes(LINKS_TABLE, "insert")}

    @extend_schema(
        request=s.AssetLinkSerializer,
        responses={201: s.LinkSerializer, 200: s.LinkSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Link an AR asset to an order or a horoscope (201; 200 when already linked)",
    )
    def post(self, request):
        data = self.parse(s.AssetLinkSerializer, request.data)
        link, created = services.asset_link(identity=self.identity, **data)
        return Response(s.LinkSerializer(link).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AssetListView(ApiView):
    access = {"GET": reads(ASSETS_TABLE)}

    @extend_schema(
        parameters=[s.ReaderAssetListQuerySerializer, *CURSOR_PARAMETERS],
        responses={200: paginated(s.ReaderAssetSerializer), **error_responses(400, 401, 403, 404)},
        summary="The AR assets you may use (readers: those linked to your assigned orders)",
    )
    def get(self, request):
        query = self.parse(s.ReaderAssetListQuerySerializer, request.query_params)
        assets = selectors.reader_asset_list(identity=self.identity, order_id=query.get("order_id"))
        return self.paginated(assets, s.ReaderAssetSerializer)


class AssetUrlView(ApiView):
    access = {"GET": reads(ASSETS_TABLE)}

    @extend_schema(
        responses={200: s.SignedUrlSerializer, **error_responses(401, 403, 404, 410)},
        summary="A signed URL to an AR asset you may see; it expires (300 s)",
    )
    def get(self, request, asset_id):
        signed = services.asset_url(identity=self.identity, asset_id=asset_id)
        return Response(s.SignedUrlSerializer({"url": signed.url, "expires_at": signed.expires_at}).data)
