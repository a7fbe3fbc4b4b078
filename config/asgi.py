import os

from django.core.asgi import get_asgi_application

from config.runtime import ensure_dirs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
ensure_dirs()  # after setup: the database and broker folders this process writes to
