import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samia.settings")
# The web server logs in as samia_web (DATABASE_WEB_URL), never as the owner: inside a request,
# RESET ROLE then leads nowhere. Set here, not in the environment, so no stray variable undoes it.
os.environ["DATABASE_LOGIN"] = "web"
application = get_wsgi_application()
