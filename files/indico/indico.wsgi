"""uWSGI's entry point for Indico in the charm's `indico` image (uWSGI `wsgi-file`).

It builds Indico's Flask application, then loads Indico's webpack manifest once, in the
worker's main thread, before uWSGI gives the worker a request (the charm runs uWSGI with
`lazy-apps`, so each worker runs this file after it is forked).

Why: Indico 3.2.9 (`indico.core.webpack.IndicoManifestLoader.load`) puts the manifest in
its per-process cache *before* it adds the customization entries `__custom.js` and
`__custom.css`. The charm runs two threads per worker, and when the first requests of a
fresh worker arrive together, the second thread can read that half-built manifest: the
page fails with HTTP 500 (`Key __custom.js not found in manifest.json`). charm-bench found
it after `max-requests` recycled the workers under load. Loading it here, before any
request, leaves the cache complete.
"""

from flask_webpackext import current_manifest

from indico.web.flask.app import make_app

application = make_app()

with application.app_context():
    # Resolving the proxy loads the manifest through IndicoManifestLoader, whose cache is
    # per process: this fills it, customization entries included.
    current_manifest._get_current_object()
