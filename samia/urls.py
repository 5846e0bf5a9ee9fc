from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from samia.health import apis as health
from samia.rls.access import Open

admin.site.site_header = "SAMIA-TAROT back office"
admin.site.site_title = "SAMIA-TAROT"
admin.site.index_title = "Back office"


class SchemaView(SpectacularAPIView):
    access = {"GET": Open("API description")}


class DocsView(SpectacularSwaggerView):
    access = {"GET": Open("API documentation page")}


class RedocView(SpectacularRedocView):
    access = {"GET": Open("API reference page")}
    template_name = "api/redoc.html"  # backoffice/templates: no web fonts from a CDN


urlpatterns = [
    path("healthz", health.LivenessView.as_view(), name="healthz"),
    path("readyz", health.ReadinessView.as_view(), name="readyz"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("backoffice/2fa/", include("samia.accounts.otp_urls")),
    path("backoffice/", admin.site.urls),
    path("", include("samia.accounts.urls")),
    path("", include("samia.marketplace.urls")),
    path("", include("samia.events.urls")),
    path("", include("samia.audit.urls")),
    path("", include("moderation.urls")),
    path("", include("notifications.urls")),
    path("", include("analytics.urls")),
    path("", include("samia.features.urls")),
    path("", include("community.urls")),
    path("", include("personalization.urls")),
    path("", include("sre.urls")),
    path("", include("i18n.urls")),
    path("", include("ops.urls")),
    path("", include("samia.storage.urls")),
    path("", include("ar.urls")),
]

handler400 = "samia.errors.bad_request"
handler403 = "samia.errors.permission_denied"
handler404 = "samia.errors.page_not_found"
handler500 = "samia.errors.server_error"
