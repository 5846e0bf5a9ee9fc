from django.urls import path

from ar import apis

urlpatterns = [
    path("admin/ar/assets", apis.AdminAssetListView.as_view(), name="ar-admin-assets"),
    path("admin/ar/assets/link", apis.AdminAssetLinkView.as_view(), name="ar-admin-asset-link"),
    path("ar/assets", apis.AssetListView.as_view(), name="ar-assets"),
    path("ar/assets/<int:asset_id>/url", apis.AssetUrlView.as_view(), name="ar-asset-url"),
]
