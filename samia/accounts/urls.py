from django.urls import path

from samia.accounts import apis

urlpatterns = [
    path("auth/token", apis.TokenObtainView.as_view(), name="auth-token"),
    path("auth/token/refresh", apis.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("me", apis.MeView.as_view(), name="me"),
]
