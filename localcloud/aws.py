"""In-process moto with the stack's storage: what handlers, tests and local tools run against."""

from __future__ import annotations

import os
from contextlib import contextmanager

from localcloud.stack import create_storage


@contextmanager
def local_aws(aws: bool = False):
    """In-process moto with every table and the bucket (or, with aws=True, whatever the AWS
    settings point at, creating nothing). Handlers read settings and clients fresh inside
    (functions.wiring is reset on the way in and out)."""
    from functions import wiring
    from functions.settings import get_settings

    for name in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_TRACE_DISABLED"):
        os.environ.setdefault(name, "true")
    mock = None
    if not aws:
        from moto import mock_aws

        mock = mock_aws()
        mock.start()
    wiring.reset()
    try:
        if mock is not None:
            settings = get_settings()
            create_storage(wiring.dynamodb(), wiring.s3(), settings.data_bucket, settings.region)
        yield
    finally:
        if mock is not None:
            mock.stop()
        wiring.reset()
