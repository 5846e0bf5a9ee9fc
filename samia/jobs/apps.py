from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "samia.jobs"
    label = "jobs"
    verbose_name = "Jobs"
