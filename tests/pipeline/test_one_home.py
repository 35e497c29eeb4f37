"""The pipeline's facts have one home each; these greps fail when a second copy comes back."""

from __future__ import annotations

import re

from tests.pipeline.conftest import REPO

CODE_DIRS = ("functions", "pipeline", "training", "localcloud", "local_handlers", "gesture_stack")


def code_files():
    for folder in CODE_DIRS:
        yield from (REPO / folder).rglob("*.py")


def where(pattern: str) -> set[str]:
    found = re.compile(pattern)
    return {p.relative_to(REPO).as_posix() for p in code_files() if found.search(p.read_text())}


def test_one_model_publisher():
    """Files, vocabulary, then models/current.json by compare-and-swap: ModelStore only."""
    publisher = {"functions/adapters/data_bucket.py"}
    assert where(r"(?<!def )\bcurrent_pointer\(") == publisher
    assert where(r"\bvocabulary\.merged\(") == publisher
    assert where(r"IfMatch|IfNoneMatch") == publisher
    assert where(r"\bdef publish\(") == publisher


def test_one_format_for_the_collected_windows():
    """collect writes training/raw_layer.py's lines; nothing turns them back into files."""
    assert where(r"\bdef window_row\(") == {"training/raw_layer.py"}
    assert "window_row(" in (REPO / "pipeline/jobs/collect.py").read_text()
    assert not where(r"raw_layer_copy|\.pop\(\"key\"\)")


def test_one_parse_of_the_training_input():
    """run_input.parse_training is the one reader of the "training" object."""
    assert where(r"\bdef (parse|check)_training\(") == {"pipeline/run_input.py"}
    assert not where(r"\bdef (check|mpy_budget)\(self")
