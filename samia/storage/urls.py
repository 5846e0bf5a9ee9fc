from django.urls import path

from samia.storage import apis

urlpatterns = [
    path("files/<str:token>", apis.FileView.as_view(), name="storage-file"),
]
