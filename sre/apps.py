from django.apps import AppConfig


class SreConfig(AppConfig):
    name = "sre"
