from django.urls import path

from gatherings.api.public import file_download

urlpatterns = [
    path("gathering-files/<str:token>", file_download, name="gathering-file"),
]
