"""Hypothesis strategies for the JSON-schema subset pydantic writes into the OpenAPI document.

Handles $ref, anyOf, enum/const, object (properties, required, no extras), array, string
(length, pattern), integer and number (bounds), boolean and null.
"""

import re

from hypothesis import strategies as st


def from_schema(schema: dict, components: dict) -> st.SearchStrategy:
    """Values valid for `schema`; `components` resolves "#/components/schemas/<Name>" refs."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return st.deferred(lambda: from_schema(components[name], components))
    if "anyOf" in schema:
        return st.one_of([from_schema(option, components) for option in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema, components)
    if kind == "array":
        items = from_schema(schema.get("items", {}), components)
        return st.lists(
            items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 8), 8)
        )
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.none() | st.integers() | st.text(max_size=8)


def _object(schema: dict, components: dict) -> st.SearchStrategy:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {
            name: from_schema(sub, components)
            for name, sub in properties.items()
            if name in required
        },
        optional={
            name: from_schema(sub, components)
            for name, sub in properties.items()
            if name not in required
        },
    )


def _string(schema: dict) -> st.SearchStrategy:
    low, high = schema.get("minLength", 0), min(schema.get("maxLength", 24), 24)
    if "pattern" in schema:
        pattern = re.compile(schema["pattern"])
        return st.from_regex(pattern, fullmatch=True).filter(lambda s: low <= len(s) <= high)
    return st.text(min_size=low, max_size=max(low, high))
