"""Fixtures shared by every test area."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Offline packaging needs credentials to exist, never to be valid.
_DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
}


def package_stack(out_dir: Path, stage: str = "ci") -> dict:
    """Package the stack with osls into out_dir (offline) and return the CloudFormation template."""
    if shutil.which("npx") is None or not (REPO / "node_modules" / "osls").exists():
        pytest.fail("node_modules is missing: run `make install` (npm ci) first")
    env = {**os.environ, **_DUMMY_AWS, "SLS_TELEMETRY_DISABLED": "1", "CI": "1"}
    cmd = ["npx", "osls", "package", "--stage", stage, "--region", "eu-west-1", "--package"]
    result = subprocess.run(
        [*cmd, str(out_dir)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((out_dir / "cloudformation-template-update-stack.json").read_text())
    template["_package_dir"] = str(out_dir)  # where the function zips are
    return template


@pytest.fixture(scope="session")
def packaged_template(tmp_path_factory) -> dict:
    """The packaged CloudFormation template of the whole stack (stage `ci`)."""
    return package_stack(tmp_path_factory.mktemp("sls-package"))


class _WithoutImplicitListRights:
    """Makes an S3 client's GetObject of a missing key answer 403 AccessDenied instead of moto's
    404 NoSuchKey: what S3 may answer a role whose s3:ListBucket is only allowed for some
    prefixes (functions.adapters.data_bucket.get_if_present). `denied`: the keys so answered."""

    def __init__(self):
        self.denied: list[str] = []

    def __call__(self, client):
        import botocore.session

        checker = botocore.session.get_session().create_client(
            "s3", region_name=client.meta.region_name
        )  # not the client under test: its requests stay as they were

        def note(params, context, **_):
            context["object"] = {"Bucket": params["Bucket"], "Key": params["Key"]}

        def answer(context, **_):
            try:
                checker.head_object(**context["object"])
                return None  # there: S3 answers as usual
            except checker.exceptions.ClientError as error:
                if error.response["Error"]["Code"] not in ("404", "NoSuchKey"):
                    raise
            from botocore.awsrequest import AWSResponse

            self.denied.append(context["object"]["Key"])
            error = {"Code": "AccessDenied", "Message": "Access Denied"}
            return AWSResponse(None, 403, {}, None), {
                "Error": error,
                "ResponseMetadata": {"HTTPStatusCode": 403},
            }

        client.meta.events.register("before-parameter-build.s3.GetObject", note)
        client.meta.events.register("before-call.s3.GetObject", answer)
        return client


@pytest.fixture
def without_list_rights():
    """Call it on an S3 client: its GetObject of a missing key answers 403 AccessDenied."""
    return _WithoutImplicitListRights()
