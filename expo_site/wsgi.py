"""
WSGI config for expo_site project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expo_site.settings")

application = get_wsgi_application()

# What the start-up made (Django, the apps, the URL configuration, the templates) lives
# as long as the process: kept out of the garbage collector's full collections, which
# otherwise walked all of it every so many requests and stalled one answer for 60-70 ms
# (docs/performance.md, national scale).
gc.freeze()
