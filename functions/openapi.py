"""The OpenAPI document of the whole API, merged from each handler's resolver (pydantic models).

    .venv/bin/python -m functions.openapi          # rewrite functions/openapi.json
    .venv/bin/python -m functions.openapi --check  # exit 1 if the committed file is stale

Routes and which ones need an API key come from infra/functions.yml.
"""

import argparse
import importlib
import json
import sys
from pathlib import Path

from functions.models import ErrorBody

DOCUMENT = Path(__file__).resolve().parent / "openapi.json"
TITLE = "gesture-stack API"
VERSION = "1"
API_KEY_SCHEME = {"ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}


def build_document() -> dict:
    from gesture_stack.localapi import load_routes

    document: dict = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": API_KEY_SCHEME},
    }
    for route in sorted(load_routes(), key=lambda r: (r.path, r.method)):
        module = importlib.import_module(route.handler.partition(".")[0].replace("/", "."))
        part = module.app.get_openapi_schema(title=TITLE, version=VERSION).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        operation = part["paths"][route.path][route.method.lower()]
        responses = operation["responses"]
        if responses.pop("422", None) is not None:
            responses["400"] = _error("a field is invalid (named in `field`)")
        if route.method == "POST":
            responses["413"] = _error("the body is over 256 KB")
        if route.private:
            operation["security"] = [{"ApiKey": []}]
            responses["403"] = _error("no valid API key, or not this device's data")
        document["paths"].setdefault(route.path, {})[route.method.lower()] = operation
        document["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    schemas = document["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema()
    return document


def _error(description: str) -> dict:
    schema = {"$ref": "#/components/schemas/ErrorBody"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


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
