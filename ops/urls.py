from django.urls import path

from ops import apis

urlpatterns = [
    path("admin/secrets", apis.SecretListView.as_view(), name="ops-secrets"),
    path("admin/secrets/rotate", apis.SecretRotateView.as_view(), name="ops-secrets-rotate"),
    path("admin/providers/toggle", apis.ProviderToggleView.as_view(), name="ops-providers-toggle"),
    path("admin/providers/health", apis.ProviderHealthView.as_view(), name="ops-providers-health"),
]
