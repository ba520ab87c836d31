"""The site's WSGI application with a static file server in front of it, for the
load benchmark (bench/national_measure.py): `/bench-static/NAME` answers the file NAME
of the directory BENCH_STATIC_DIR, read once, without Django, the way a static file
server in the same process (WhiteNoise, say) serves a file. Everything else goes to
the site."""

from __future__ import annotations

import os
from pathlib import Path

from expo_site.wsgi import application as site

PREFIX = "/bench-static/"
DIRECTORY = Path(os.environ["BENCH_STATIC_DIR"])
FILES = {
    f"{PREFIX}{path.name}": path.read_bytes() for path in DIRECTORY.iterdir() if path.is_file()
}


def application(environ, start_response):
    body = FILES.get(environ.get("PATH_INFO", ""))
    if body is None:
        return site(environ, start_response)
    start_response(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
