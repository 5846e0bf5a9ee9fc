"""The project's routes plus the audit routes, until the lead includes samia.audit.urls at the root."""

from django.urls import include, path

from samia.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns]
if not any(getattr(p, "urlconf_name", None) == "samia.audit.urls" for p in project_urlpatterns):
    urlpatterns.append(path("", include("samia.audit.urls")))
