"""The back office's two-factor pages, under /backoffice/2fa/ (staff sessions only)."""

from django.contrib import admin
from django.urls import path

from samia.accounts import otp_views as views

app_name = "two_factor"
urlpatterns = [
    path("", admin.site.admin_view(views.status), name="status"),
    path("enrol/", admin.site.admin_view(views.enrol), name="enrol"),
    path("verify/", admin.site.admin_view(views.verify), name="verify"),
    path("recovery-codes/", admin.site.admin_view(views.recovery_codes), name="recovery_codes"),
    path("staff/", admin.site.admin_view(views.staff), name="staff"),
    path("staff/<int:user_id>/reset/", admin.site.admin_view(views.reset), name="reset"),
]
