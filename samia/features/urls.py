from django.urls import path

from samia.features import apis

urlpatterns = [
    path("admin/features", apis.FeatureListView.as_view(), name="features"),
]
