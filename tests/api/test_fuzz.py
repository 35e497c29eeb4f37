"""Fuzzing: 2,000+ requests generated from the committed OpenAPI document; never a 5xx.

Bodies are valid per the document's schemas (tests/api/openapi_strategies.py), valid with one value
replaced by arbitrary JSON, arbitrary JSON, or arbitrary text; query parameters follow or break
their schemas; keys are the device's, another device's, the dashboard's, unknown or missing.
Every request goes through the real handler, as API Gateway would call it, against moto.
"""

import json
import os

from api_helpers import SAMPLE_NOW_MS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_strategies import from_schema

from functions import openapi
from localcloud.lambda_runtime import LambdaContext, rest_event
from localcloud.stack import load_routes

DOCUMENT = json.loads(openapi.DOCUMENT.read_text())
COMPONENTS = DOCUMENT["components"]["schemas"]
KEYS = [None, "", "k1esp32a01", "k1esp32b02", "k1dashbrd0", "k0unknown0"]
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", 2100))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def near_now(value):
    """Valid-looking times land inside the accepted window more often."""
    if isinstance(value, dict):
        return {
            k: (
                SAMPLE_NOW_MS - v % 86_400_000
                if k == "t_ms" and isinstance(v, int)
                else near_now(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [near_now(v) for v in value]
    return value


@st.composite
def mutated(draw, valid):
    value = draw(valid)
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        value = value | {key: draw(json_values)}
    return value


def body_strategy(operation: dict):
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return st.none()
    valid = from_schema(content["schema"], COMPONENTS).map(near_now)
    as_json = (valid | mutated(valid) | json_values).map(json.dumps)
    return as_json | st.text(max_size=40) | st.just("")


def query_strategy(operation: dict):
    params = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    if not params:
        return st.just({})
    entries = {}
    for param in params:
        typed = from_schema(param.get("schema", {}), COMPONENTS).map(
            lambda v: json.dumps(v) if not isinstance(v, str) else v
        )
        entries[param["name"]] = st.none() | typed | st.text(max_size=12)
    return st.fixed_dictionaries(entries).map(
        lambda q: {k: [v] for k, v in q.items() if v is not None}
    )


ROUTES = {(r.method, r.path): r for r in load_routes()}
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]


@st.composite
def requests(draw):
    method, path, operation = draw(st.sampled_from(OPERATIONS))
    headers = {"Content-Type": "application/json"}
    if draw(st.booleans()):
        headers["If-None-Match"] = draw(st.sampled_from(['"v1"', "*", "", '"x", W/"y"']))
    event = rest_event(
        method,
        path,
        query=draw(query_strategy(operation)),
        headers=headers,
        body=draw(body_strategy(operation)),
        api_key_id=draw(st.sampled_from(KEYS)),
    )
    event["requestContext"]["requestTimeEpoch"] = SAMPLE_NOW_MS
    return ROUTES[(method, path)], event


def test_generated_requests_never_get_a_5xx(aws):
    handlers = {key: route.load() for key, route in ROUTES.items()}
    seen = {"count": 0, "statuses": set()}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests())
    def one_request(request):
        route, event = request
        response = handlers[(route.method, route.path)](event, LambdaContext())
        seen["count"] += 1
        seen["statuses"].add(response["statusCode"])
        assert response["statusCode"] < 500, (event, response)
        if response.get("body"):
            json.loads(response["body"])

    one_request()
    assert seen["count"] >= min(EXAMPLES, 2000)
    assert {200, 400, 403} <= seen["statuses"]
