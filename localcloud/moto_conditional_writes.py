"""Makes moto 5.2.5's conditional S3 writes atomic, as S3's are.

moto checks `If-Match` / `If-None-Match` of a PutObject (S3Response.put_object) and then
stores the object, with nothing between the two: two conditional writes served by two threads
of the moto server can both pass the check, and both "succeed". S3 lets exactly one win. The
promotion compare-and-swap (pipeline/current_model.py) relies on that, so the local runs do too:
`atomic_conditional_writes()` serialises moto's PutObject handling (check and store together).

Pinned to the moto version it was written for; tests/pipeline/test_current_model.py shows the
gap on plain moto, so a moto that fixes it fails that test and this module can go.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from unittest import mock

import moto
from moto.s3.responses import S3Response

MOTO_VERSION = "5.2.5"

_lock = threading.RLock()


@contextlib.contextmanager
def atomic_conditional_writes() -> Iterator[None]:
    """Within this block, moto's S3 PutObject checks its conditions and stores atomically."""
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"localcloud.moto_conditional_writes is written for moto {MOTO_VERSION}, found "
            f"{moto.__version__}: re-check whether conditional PutObject is atomic there"
        )
    original = S3Response.put_object

    @functools.wraps(original)
    def put_object(self, *args, **kwargs):
        with _lock:
            return original(self, *args, **kwargs)

    with mock.patch.object(S3Response, "put_object", put_object):
        yield
