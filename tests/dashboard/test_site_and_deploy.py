"""What the dashboard site serves, how it is uploaded, and how the stack deploys it."""

import json

import boto3
import pytest
from moto import mock_aws

from dashboard import publish, site
from localcloud.stack import load_routes

PAGE_SCRIPTS = ("vendor/chart.umd.min.js", "app.js")


def test_the_page_loads_only_files_the_site_serves():
    html = (site.HERE / "index.html").read_text()
    served = set(site.files())
    for src in (*PAGE_SCRIPTS, "style.css"):
        assert f'"{src}"' in html
        assert "/" + src in served
    assert "http" not in html.replace("http-equiv", "")  # nothing from another origin


def test_vendor_files_come_from_node_modules_as_vendor_json_maps_them():
    mapping = json.loads(site.VENDOR_FILE.read_text())
    assert mapping == {"chart.umd.min.js": "chart.js/dist/chart.umd.min.js"}
    status, headers, body = site.respond("/vendor/chart.umd.min.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert body == (site.NODE_MODULES / "chart.js/dist/chart.umd.min.js").read_bytes()
    package = json.loads((site.HERE.parent / "package.json").read_text())
    assert "chart.js" in package["dependencies"]


@pytest.mark.parametrize("path", ["/", "/index.html", "/app.js", "/style.css"])
def test_page_files_carry_their_type_and_the_content_security_policy(path):
    status, headers, _ = site.respond(path)
    assert status == 200
    assert headers["Content-Security-Policy"] == site.CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/events", "/devices", "/vendor/../site.py", "/site.py", "/x"])
def test_other_paths_are_left_to_the_api(path):
    assert site.respond(path) is None


def test_config_document_names_the_api_and_the_key():
    status, headers, body = site.respond("/dashboard-config.json?x=1", api="http://a", key="k")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert json.loads(body) == {"api": "http://a", "key": "k"}


def test_publish_uploads_the_site_with_types_and_no_key():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="site")
        keys = publish.upload(s3, "site")
        assert set(keys) == {
            "index.html", "app.js", "style.css", "vendor/chart.umd.min.js",
            "dashboard-config.json",
        }  # fmt: skip
        config = s3.get_object(Bucket="site", Key="dashboard-config.json")
        assert json.loads(config["Body"].read()) == {"api": "", "key": None}
        page = s3.get_object(Bucket="site", Key="index.html")
        assert page["ContentType"].startswith("text/html")
        assert page["CacheControl"] == "no-cache"


def _resources(template, kind):
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_page_bucket_is_private_and_read_only_by_its_distribution(packaged_template):
    bucket = packaged_template["Resources"]["DashboardBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert "WebsiteConfiguration" not in bucket
    policy = packaged_template["Resources"]["DashboardBucketPolicy"]["Properties"]
    allow, deny = policy["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source = json.dumps(allow["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert '"Ref": "DashboardDistribution"' in source
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_distribution_serves_the_page_over_oac_with_the_sites_csp(packaged_template):
    config = packaged_template["Resources"]["DashboardDistribution"]["Properties"][
        "DistributionConfig"
    ]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["page"]["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert origins["page"]["OriginAccessControlId"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    [oac] = _resources(packaged_template, "AWS::CloudFront::OriginAccessControl").values()
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    headers = packaged_template["Resources"]["DashboardHeaders"]["Properties"]
    csp = headers["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert csp["ContentSecurityPolicy"] == site.CONTENT_SECURITY_POLICY


def test_distribution_forwards_exactly_the_dashboards_read_routes(packaged_template):
    config = packaged_template["Resources"]["DashboardDistribution"]["Properties"][
        "DistributionConfig"
    ]
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    dashboard_routes = {
        r.path for r in load_routes() if r.function in ("devices", "counts", "releases")
    }
    assert set(behaviors) == dashboard_routes
    for behavior in behaviors.values():
        assert behavior["TargetOriginId"] == "api"
        assert behavior["AllowedMethods"] == ["GET", "HEAD"]
        assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def test_a_vendor_mapping_outside_node_modules_is_never_served(monkeypatch, tmp_path):
    mapping = tmp_path / "vendor.json"
    mapping.write_text(
        json.dumps({"lib.js": "chart.js/package.json", "up.js": "../package.json", "a/b.js": "x"})
    )
    monkeypatch.setattr(site, "VENDOR_FILE", mapping)
    assert site.respond("/vendor/lib.js")[0] == 200
    assert site.respond("/vendor/up.js") is None
    assert site.respond("/vendor/a/b.js") is None
