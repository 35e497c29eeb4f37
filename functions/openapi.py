"""The OpenAPI document of the whole API, generated from each handler's Route and its models.

    .venv/bin/python -m functions.openapi          # rewrite functions/openapi.json
    .venv/bin/python -m functions.openapi --check  # exit 1 if the committed file is stale

Routes, and which need an API key, come from infra/functions.yml; schemas from functions/models/.
"""

import argparse
import importlib
import json
import sys
from pathlib import Path

from pydantic.json_schema import models_json_schema

from functions.models.common import ErrorBody

DOCUMENT = Path(__file__).resolve().parent / "openapi.json"
TITLE = "gesture-stack API"
VERSION = "1"
REF = "#/components/schemas/{model}"
API_KEY_SCHEME = {"ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}


def build_document() -> dict:
    from gesture_stack.localapi import load_routes

    routes = []
    for deployed in sorted(load_routes(), key=lambda r: (r.path, r.method)):
        module = importlib.import_module(deployed.handler.partition(".")[0].replace("/", "."))
        routes.append((deployed, module.handler.route))
    models = {(r.body, "validation") for _, r in routes if r.body}
    models |= {(r.response, "serialization") for _, r in routes} | {(ErrorBody, "serialization")}
    ordered = sorted(models, key=lambda m: (m[0].__name__, m[1]))
    refs, schemas = models_json_schema(ordered, ref_template=REF)
    paths: dict = {}
    for deployed, route in routes:
        responses = {"200": _content("OK", refs[(route.response, "serialization")])}
        operation = {"summary": route.summary, "operationId": deployed.function}
        if route.body:
            schema = refs[(route.body, "validation")]
            operation["requestBody"] = {"required": True, **_content("", schema)}
            del operation["requestBody"]["description"]
            responses["413"] = _error("the body is over 256 KB")
        if route.query:
            operation["parameters"] = _query_parameters(route.query)
        if route.body or route.query:
            responses["400"] = _error("a value is invalid; `field` names it")
        if deployed.private:
            operation["security"] = [{"ApiKey": []}]
            responses["403"] = _error("no valid API key, or not this device's data")
        for status, text in route.responses.items():
            responses[str(status)] = {"description": text} if status < 400 else _error(text)
        operation["responses"] = responses
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": paths,
        "components": {"schemas": schemas["$defs"], "securitySchemes": API_KEY_SCHEME},
    }


def _query_parameters(model) -> list[dict]:
    schema = model.model_json_schema(by_alias=True, ref_template=REF)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        parameter = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameter["schema"] = {k: v for k, v in prop.items() if k != "description"}
        parameters.append(parameter)
    return parameters


def _content(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _content(description, {"$ref": REF.format(model="ErrorBody")})


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            print(f"{DOCUMENT.name} is stale: run python -m functions.openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
