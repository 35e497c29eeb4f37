"""The OpenAPI document of the whole API, generated from each handler's Route and its models.

    .venv/bin/python -m functions.openapi          # rewrite functions/openapi.json
    .venv/bin/python -m functions.openapi --check  # exit 1 if the committed file is stale

Routes come from the handler modules of functions/ (each `handler.route`: method, path, whether
it needs an API key); schemas from functions/models/. A test pins the routes to
infra/functions.yml, which deploys them.
"""

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

from pydantic.json_schema import models_json_schema

from functions.models.common import ErrorBody

DOCUMENT = Path(__file__).resolve().parent / "openapi.json"
TITLE = "gesture-stack API"
VERSION = "1"
REF = "#/components/schemas/{model}"
API_KEY_SCHEME = {"ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}


def handler_routes() -> dict[str, object]:
    """Function name (= module name) -> its Route, for every handler module in functions/."""
    found = {}
    for info in pkgutil.iter_modules([str(DOCUMENT.parent)]):
        if info.ispkg or info.name in ("api", "openapi", "wiring", "settings"):
            continue
        handler = getattr(importlib.import_module(f"functions.{info.name}"), "handler", None)
        if handler is not None and hasattr(handler, "route"):
            found[info.name] = handler.route
    return found


def build_document() -> dict:
    routes = sorted(handler_routes().items(), key=lambda item: (item[1].path, item[1].method))
    models = {(r.body, "validation") for _, r in routes if r.body}
    models |= {(r.response, "serialization") for _, r in routes} | {(ErrorBody, "serialization")}
    ordered = sorted(models, key=lambda m: (m[0].__name__, m[1]))
    refs, schemas = models_json_schema(ordered, ref_template=REF)
    paths: dict = {}
    for function, route in routes:
        responses = {"200": _content("OK", refs[(route.response, "serialization")])}
        operation = {"summary": route.summary, "operationId": function}
        if route.body:
            schema = refs[(route.body, "validation")]
            operation["requestBody"] = {"required": True, **_content("", schema)}
            del operation["requestBody"]["description"]
            responses["413"] = _error("the body is over 256 KB")
        if route.query:
            operation["parameters"] = _query_parameters(route.query)
        if route.body or route.query:
            responses["400"] = _error("a value is invalid; `field` names it")
        if route.auth:
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
    parser = argparse.ArgumentParser(
        prog="python -m functions.openapi", description=__doc__.splitlines()[0]
    )
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
