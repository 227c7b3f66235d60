"""schemathesis hooks: real page tokens for the `task-cursor` and `event-cursor` formats.

A token is opaque to clients; random text is rightly refused with a 400, so
the fuzzer draws tokens of the shape this server issues (loaded by
`.ci/schemathesis.sh` through SCHEMATHESIS_HOOKS).
"""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

from hookline.ingress.query import INT32_MAX, Cursor, after_token

_OBJECT_ID = st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)

schemathesis.openapi.format(
    "task-cursor",
    st.builds(lambda b, o: Cursor(b, o).encode(), _OBJECT_ID, st.integers(0, 10**6)),
)
# Audit ids are 32-bit, event ids 64-bit: draw ids both lists issue.
schemathesis.openapi.format("event-cursor", st.integers(0, INT32_MAX).map(after_token))
