"""The service's WSGI application behind one path that outlasts gunicorn's timeout (for the error tests)."""

import time

from birthdaybuddy.wsgi import application as service


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/__slow":
        time.sleep(60)
    return service(environ, start_response)
