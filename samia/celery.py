import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samia.settings")
# Workers and beat run as the owner (DATABASE_URL) and bind an identity only where a job acts for one.
os.environ.setdefault("DATABASE_LOGIN", "owner")

app = Celery("samia")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
