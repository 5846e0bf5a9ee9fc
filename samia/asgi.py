import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samia.settings")
# Like samia/wsgi.py: a web server logs in as samia_web, never as the owner.
os.environ["DATABASE_LOGIN"] = "web"
application = get_asgi_application()
