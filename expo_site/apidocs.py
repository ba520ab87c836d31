"""The API's documentation pages (Swagger UI and Redoc, from drf-spectacular-sidecar),
served under the site's Content-Security-Policy.

Neither page runs an inline script: Swagger UI gets its start-up script as a separate
request (drf-spectacular's split view), and Redoc starts from its `<redoc>` element
(`templates/api/redoc.html`, which also loads no fonts from elsewhere). Both libraries
style their pages from JavaScript with `<style>` elements they write at run time, so
these two pages alone allow inline styles; scripts stay `'self'` only. Redoc runs its
search in a web worker that it starts from a `blob:` address.
"""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

_inline_styles = csp_update({"style-src": [UNSAFE_INLINE]})

swagger_view = _inline_styles(SpectacularSwaggerSplitView.as_view(url_name="api:schema"))
redoc_view = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
    SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")
)
