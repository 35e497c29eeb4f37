"""Upload the dashboard to a deployed stack's private bucket (CloudFront serves it).

    .venv/bin/python -m dashboard.publish --stage dev    # after `osls deploy` (make deploy)

Which files, at which keys, with which types: dashboard/site.py. The deployed
dashboard-config.json names the API as the page's own origin ("": CloudFront routes the
dashboard's read paths to API Gateway) and no key: the page asks for it once per session.
"""

from __future__ import annotations

import argparse
import sys

from dashboard import site

SERVICE = "gesture-stack"


def site_objects() -> dict[str, tuple[bytes, str]]:
    """Bucket key -> (body, content type) of every file of the deployed site."""
    objects = {}
    for path, file in site.files().items():
        if path != "/":
            objects[path.lstrip("/")] = (file.read_bytes(), site.headers(path)["Content-Type"])
    config_path = site.CONFIG_PATH
    config = site.config_document(api="", key=None)
    objects[config_path.lstrip("/")] = (config, site.headers(config_path)["Content-Type"])
    return objects


def upload(s3, bucket: str) -> list[str]:
    """Put every site object (Cache-Control: no-cache, so CloudFront revalidates)."""
    keys = []
    for key, (body, content_type) in sorted(site_objects().items()):
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl="no-cache"
        )
        keys.append(key)
    return keys


def stack_outputs(cloudformation, stack_name: str) -> dict[str, str]:
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--region", default=None, help="default: your AWS settings")
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    outputs = stack_outputs(session.client("cloudformation"), f"{SERVICE}-{args.stage}")
    keys = upload(session.client("s3"), outputs["DashboardBucketName"])
    print(f"dashboard: {len(keys)} files uploaded; open {outputs['DashboardUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
