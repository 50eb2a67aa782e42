"""The console mail backend, through the log: each message one INFO record of ``birthdaybuddy.mail``.

Django's console backend writes to ``sys.stdout``; in the Celery worker that stream is redirected
to the log at WARNING, so every mail sent there looked like a problem. Logged here, a message gets
the level it deserves, the request id and the configured format, in the web process and the worker.
"""

from __future__ import annotations

import io
import logging

from django.core.mail.backends import console

logger = logging.getLogger("birthdaybuddy.mail")


class EmailBackend(console.EmailBackend):
    def write_message(self, message) -> None:
        stream, self.stream = self.stream, io.StringIO()
        try:
            super().write_message(message)
            text = self.stream.getvalue().rstrip("\n").removesuffix("-" * 79).rstrip("\n")
        finally:
            self.stream = stream
        logger.info("Email to %s: %s\n%s", ", ".join(message.recipients()), message.subject, text)
