"""Keystone's WSGI app for gunicorn.

Importing keystone.wsgi.api parses sys.argv with oslo.config; under gunicorn that is gunicorn's
own command line, so the worker dies with "unrecognized arguments" and is restarted forever
while the master keeps accepting connections. Clear argv first. The config comes from
OS_KEYSTONE_CONFIG_DIR.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402,F401
