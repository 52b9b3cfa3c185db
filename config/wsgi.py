"""The WSGI application gunicorn serves, warmed up before the first request.

A worker used to import every view module and compile the main pages' templates on its first
request: about 1.5 s of CPU that the first person to reach each worker waited for, and, on a
busy machine, long enough for gunicorn's timeout to kill the worker mid-import. Importing the
URLconf and loading those templates here does it once, at start (and once for all workers with
gunicorn's `--preload`). Neither touches the database or Redis.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from carecoord.web.warm_up import warm_up  # noqa: E402 - needs the settings loaded above

warm_up()
