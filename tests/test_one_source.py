"""Every device fact has one home, gesture.spec; the Lambda package's copies are pinned to it,
and no new copy of a literal creeps in elsewhere."""

import re
import string
from pathlib import Path

import pytest
from gesture import spec
from pydantic import TypeAdapter, ValidationError

from functions import storage_layout
from functions.models.common import Version
from tests.repo_files import repo_files

REPO = Path(__file__).resolve().parents[1]


def versions_to_try() -> list[str]:
    ok = ["a", "v1.2_3-x", "A" * spec.VERSION_MAX, spec.VERSION_CHARS[: spec.VERSION_MAX]]
    bad = ["", "A" * (spec.VERSION_MAX + 1), "v1\n", "a b", "../x", "a:b", "a/b"]
    bad += [c for c in string.printable if c not in spec.VERSION_CHARS]
    return ok + bad


def spec_accepts(value: str) -> bool:
    return 0 < len(value) <= spec.VERSION_MAX and all(c in spec.VERSION_CHARS for c in value)


def test_the_lambda_packages_copies_are_the_specs():
    assert storage_layout.MODEL_FILE_NAMES == spec.MODEL_FILES
    assert storage_layout.MANIFEST_NAME == spec.MANIFEST_FILE
    for value in versions_to_try():
        assert bool(re.fullmatch(storage_layout.VERSION_PATTERN, value)) == spec_accepts(value)
        try:
            TypeAdapter(Version).validate_python(value)
            api = True
        except ValidationError:
            api = False
        assert api == spec_accepts(value), repr(value)


def test_the_step_is_the_capture_rate():
    assert spec.STEP_MS * spec.CAPTURE_HZ == 1000


def python_files() -> list[str]:
    return repo_files("*.py")


# Files that still spell a model-folder file name out; shrink this list, never grow it.
STILL_SPELLED_OUT = {
    "functions/models/release.py",  # the API's Literal of the file names (pinned above)
}
FACTS = [
    (r"^\s*(CAPTURE_HZ|STEP_MS|CAPTURE_STEP_MS)\s*=\s*[\d(]", "the capture rate/step"),
    (r"^\s*SIGNALS\s*=\s*[(\[]", "the signal order"),
    (r"[\"'](manifest\.json|model\.mpy|model\.py|vectors\.json)[\"']", "a model-folder file name"),
]


def test_no_new_copy_of_a_device_fact():
    files = python_files()
    homes = {"firmware/lib/gesture/spec.py", "functions/storage_layout.py"}
    found = []
    for name in files:
        if name in homes or name.startswith("tests/") or not (REPO / name).is_file():
            continue
        for number, line in enumerate((REPO / name).read_text().splitlines(), 1):
            for pattern, fact in FACTS:
                if re.search(pattern, line) and not (
                    fact == "a model-folder file name" and name in STILL_SPELLED_OUT
                ):
                    found.append(f"{name}:{number}: {fact} belongs in gesture.spec: {line.strip()}")
    assert not found, "\n".join(found)


# The events table's key formats (event_key, fleet_key, id markers, their ranges and checks)
# live in functions/domain/events.py alone. Files allowed a copy, each with its reason:
KEY_FORMAT_HOME = "functions/domain/events.py"
KEY_COPIES_ALLOWED = {
    # the benchmark's bare boto3 baseline imports nothing of ours on purpose (cold start)
    "benchmarks/api_bare_handler.py",
}
KEY_FORMATS = [
    (r":0?13d\}#|:0?10d\}", "a key field's format (event_key, fleet_key)"),
    (r"\\d\{13\}#|#\\d\{10\}", "a key's pattern (parse_event_key, parse_fleet_key)"),
    (r"#~", "a fleet key bound (fleet_key_range)"),
    (r"[\"']9{10,}", "a key bound of nines (device_key_range, fleet_key_range)"),
    (r"\b9_999_999_999\)", "the largest seq as a key bound (device_key_range)"),
    (r"[\"']id#", "an id marker key (id_key)"),
]


def key_format_copies(name: str, text: str) -> list[str]:
    return [
        f"{name}:{number}: {what} belongs in {KEY_FORMAT_HOME}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), 1)
        for pattern, what in KEY_FORMATS
        if re.search(pattern, line)
    ]


def test_no_copy_of_an_event_key_format_outside_the_events_domain():
    found = []
    for name in python_files():
        if name == KEY_FORMAT_HOME or name in KEY_COPIES_ALLOWED or name.startswith("tests/"):
            continue
        if (REPO / name).is_file():
            found += key_format_copies(name, (REPO / name).read_text())
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "copy",
    [
        "high = event_key(span.to_ms, 9_999_999_999)",
        'low, high = f"{span.from_ms:013d}#", f"{span.to_ms:013d}#~"',
        '_ALL_FLEET_KEYS = ("0", "9999999999999~")',
        '_DEVICE_CURSOR = re.compile(r"^d\\|(\\d{13}#\\d{10})$")',
        'return f"{t_ms:013d}#{seq:010d}"',
        'marker = "id#" + event_id',
    ],
)
def test_the_key_format_check_finds_the_copies_it_replaced(copy):
    assert key_format_copies("x.py", copy), copy
    assert key_format_copies(KEY_FORMAT_HOME, (REPO / KEY_FORMAT_HOME).read_text())
