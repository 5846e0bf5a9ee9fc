from django.urls import path

from i18n import apis

urlpatterns = [
    path("admin/i18n/translate", apis.TranslateView.as_view(), name="i18n-translate"),
    path("admin/i18n/status", apis.StatusView.as_view(), name="i18n-status"),
    path("admin/i18n/review", apis.ReviewView.as_view(), name="i18n-review"),
]
