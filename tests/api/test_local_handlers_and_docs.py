"""local_handlers/*.py run every function on its sample events; the OpenAPI file is current."""

import json
import os
import subprocess
import sys

import pytest
from api_helpers import EVENTS, REPO

from functions import openapi
from localcloud.stack import load_routes

FUNCTIONS = sorted({route.function for route in load_routes()})


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def responses(stdout: str) -> list[dict]:
    decoder, found, text = json.JSONDecoder(), [], stdout.strip()
    while text:
        value, end = decoder.raw_decode(text)
        found.append(value)
        text = text[end:].strip()
    return found


def test_every_function_has_a_local_handler_and_sample_events():
    for function in FUNCTIONS:
        assert (REPO / "local_handlers" / f"{function}.py").exists(), function
        assert (EVENTS / function / "valid.json").exists(), function


def test_local_handler_runs_every_sample_of_a_function_in_order():
    names = sorted((EVENTS / "ingest").glob("*.json"))
    order = [EVENTS / "ingest" / "valid.json", EVENTS / "ingest" / "duplicate.json"]
    order += [p for p in names if p not in order]
    result = run("local_handlers/ingest.py", *map(str, order))
    assert result.returncode == 0, result.stderr
    statuses = {
        p.stem: r["statusCode"] for p, r in zip(order, responses(result.stdout), strict=True)
    }
    assert statuses.pop("valid") == statuses.pop("duplicate") == 200
    assert statuses.pop("forbidden-other-device") == 403
    assert statuses.pop("legacy") == statuses.pop("unresolved-clock") == 200
    assert set(statuses.values()) == {400}, statuses


@pytest.mark.parametrize("function", [f for f in FUNCTIONS if f != "ingest"])
def test_local_handler_default_event_succeeds(function):
    result = run(f"local_handlers/{function}.py")
    assert result.returncode == 0, result.stderr
    [response] = responses(result.stdout)
    assert response["statusCode"] == 200, response


def test_a_missing_event_file_is_a_one_line_error():
    result = run("local_handlers/ingest.py", "events/ingest/no-such-event.json")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith("no-such-event.json: no such event file")
    assert "Traceback" not in result.stderr


def test_committed_openapi_document_is_up_to_date():
    assert openapi.DOCUMENT.read_text() == openapi.render(), (
        "functions/openapi.json is stale: run `.venv/bin/python -m functions.openapi`"
    )
    document = json.loads(openapi.DOCUMENT.read_text())
    assert set(document["paths"]) == {
        "/devices",
        "/events",
        "/events/counts",
        "/health",
        "/model",
        "/models",
        "/samples",
        "/telemetry",
    }
    assert document["paths"]["/events"]["post"]["security"] == [{"ApiKey": []}]


def test_the_handlers_routes_are_the_routes_infra_functions_yml_deploys():
    deployed = {r.function: (r.handler, r.method, r.path, r.private) for r in load_routes()}
    in_code = {
        name: (f"functions/{name}.handler", route.method, route.path, route.auth)
        for name, route in openapi.handler_routes().items()
    }
    assert in_code == deployed


def test_functions_import_no_development_tool():
    """functions/ is what the Lambda zip holds: nothing of ours outside it."""
    ours = ("localcloud", "gesture_stack", "pipeline", "training", "tests", "local_handlers")
    for path in (REPO / "functions").rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                assert words[1].split(".")[0] not in ours, f"{path.name}: {line.strip()}"


def test_handlers_run_with_the_xray_tracer_where_lambda_tracing_is_on():
    result = subprocess.run(
        [sys.executable, "local_handlers/health.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"},
    )
    assert result.returncode == 0, result.stderr
    assert responses(result.stdout)[0]["statusCode"] == 200


def test_the_demo_model_is_a_valid_release_published_the_one_way(aws):
    """local_handlers' demo model: a manifest training's Manifest accepts, files whose digests
    it states, published through ModelStore (pointer by compare-and-swap, vocabulary first)."""
    import hashlib

    from functions import wiring
    from local_handlers._runner import publish_demo_model, sample_gestures
    from training.manifest import Manifest

    version = publish_demo_model()
    store = wiring.models()
    manifest = Manifest.model_validate(store.manifest(version))
    assert manifest.version == version and manifest.classes == ["idle", *sample_gestures()]
    for name, info in manifest.files.items():
        data = store.file_bytes(version, name)
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (info.sha256, info.bytes)
    pointer = store.pointer().read().pointer
    assert pointer["version"] == version and pointer["promoted_at"]  # the one publisher's
    assert store.vocabulary() >= set(sample_gestures())
