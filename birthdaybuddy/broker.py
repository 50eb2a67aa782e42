"""A file-system Celery broker that writes messages atomically.

kombu's stock filesystem transport creates the message file before writing it, so a
polling worker can read a half-written file (celery/kombu#1551). Writing to a temporary
name and renaming it into place makes each message appear whole or not at all. Used only
by the embedded default, which needs no broker server.
"""

import os
import tempfile
import time
import uuid

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class AtomicFilesystemChannel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # Wall-clock nanoseconds keep the order across processes (kombu sorts by name).
        filename = f"{time.time_ns()}_{uuid.uuid4()}.{queue}.msg"
        folder = self.data_folder_out
        os.makedirs(folder, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(tmp_path, os.path.join(folder, filename))
        except BaseException:
            if os.path.exists(tmp_path):
                os.unlink(tmp_path)
            raise


class AtomicFilesystemTransport(filesystem.Transport):
    Channel = AtomicFilesystemChannel

    def __init__(self, client, **kwargs):
        options = client.transport_options
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                os.makedirs(options[key], exist_ok=True)
        super().__init__(client, **kwargs)
