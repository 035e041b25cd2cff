"""How much the node's HTTP API takes in one request, named once: the guard and the routes read them.

A body is counted as it arrives (`web/guard.py`), so a request over its limit is refused with 413
after at most the limit plus one read, never read whole first.
"""

from __future__ import annotations

MAX_UPLOAD = 20 * 1024 * 1024
"""The largest roster file the import takes (20 MiB)."""
MAX_JSON_BODY = 8 * 1024 * 1024
"""The largest body of every other request (8 MiB: a full batch is far below it)."""
MAX_IMPORT_BODY = MAX_UPLOAD + 1024 * 1024
"""The largest body under `/api/v1/import…`: the upload plus its multipart framing and fields."""
IMPORT_PREFIX = "/api/v1/import"
MAX_BATCH = 1000
"""The most events one `POST /api/v1/events/batch` takes (the demo sends 500 at a time)."""
