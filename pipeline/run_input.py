"""The pipeline's execution input, strictly: what every key may hold, and the words for what
is wrong with it. The one home of these rules.

The main state machine checks what ASL can check before it starts anything (the key names,
the flags' type, the dates' form and order, no date in the future: statemachines/main.asl.json,
pinned to this module by tests/pipeline/test_run_input.py); each job checks everything again
here, including what ASL cannot (the range's length, the training numbers and budgets), before
it reads or writes a thing. A job that rejects its input reports `Pipeline.InvalidInput` with
the reason in words (pipeline/jobs/result.py), which the machine turns into its failure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from pipeline.promotion import Budgets

ERROR = "Pipeline.InvalidInput"

INPUT_KEYS = ("run_data_collect", "run_data_process", "time_from", "time_to", "training")
EXAMPLE = '{"run_data_collect": true, "run_data_process": true}'

DEFAULT_MAX_RANGE_DAYS = 90  # time_from..time_to at most this long (setting MAX_RANGE_DAYS)
MAX_RANGE_DAYS_LIMIT = 3660  # what the setting itself may be: about ten years of daily queries
EVENTS_LOOKBACK_DAYS = 30  # no time_from: the events of the 30 days up to time_to

# Numbers of the execution input's "training" object: (lowest, highest, integer?).
TRAINING_NUMBERS = {
    "seed": (0, 2**31 - 1, True),
    "recordings": (1, 200, True),  # synthetic training recordings
    "duration_s": (5, 3600, False),  # seconds per synthetic recording
    "evaluation_recordings": (1, 50, True),  # at least one: no streams, no score
}
# budgets.model_mpy_bytes: the device imports model.mpy into a heap of about 100 KB, so
# a budget over 256 KiB cannot be met by any model that runs; 1 KiB is smaller than any tree.
BUDGET_NUMBERS = {"model_mpy_bytes": (1024, 256 * 1024, True)}

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Training:
    """The execution input's "training", parsed once (parse_training) over the defaults of
    training/params.yml: what the retrain job trains, scores and gates with."""

    grid: str
    seed: int
    recordings: int  # synthetic training recordings
    duration_s: float  # seconds each
    evaluation_recordings: int
    evaluation_duration_s: float
    budgets: Budgets
    gestures: tuple[str, ...] = ()  # the vocabulary to keep (default: the current model's)
    extra: dict = field(default_factory=dict)  # keys a training backend adds (a test stand-in)


class InvalidInput(ValueError):
    """The execution input breaks a rule; str() says which, in words."""


def unknown_keys(given: dict, allowed, where: str) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        raise InvalidInput(
            f"unknown key{'s' if len(unknown) > 1 else ''} {names} in {where}; "
            f"the keys are {', '.join(allowed)}"
        )


def parse_day(name: str, value) -> date | None:
    """A UTC day "YYYY-MM-DD" ("" = unbounded); anything else is InvalidInput."""
    if value == "" or value is None:
        return None
    if not isinstance(value, str) or not _DAY.match(value):
        raise InvalidInput(f'{name} must be a day YYYY-MM-DD or "", got {value!r}')
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} {value!r} is not a day of the calendar") from None


def check_range(
    time_from: date | None, time_to: date | None, today: date, max_days: int
) -> tuple[date, date]:
    """The days a run reads, [first, last]: time_to defaults to today, time_from to
    EVENTS_LOOKBACK_DAYS before it. No day after today, first <= last, at most max_days."""
    for name, day in (("time_from", time_from), ("time_to", time_to)):
        if day is not None and day > today:
            raise InvalidInput(f"{name} {day} is in the future (today is {today} UTC)")
    last = time_to or today
    first = time_from or last - timedelta(days=EVENTS_LOOKBACK_DAYS)
    if first > last:
        raise InvalidInput(f"time_from {first} is after time_to {last}")
    days = (last - first).days + 1
    if days > max_days:
        raise InvalidInput(
            f"time_from {first} to time_to {last} is {days} days; a run reads at most "
            f"{max_days} days (setting MAX_RANGE_DAYS): split it into several runs"
        )
    return first, last


def check_max_range_days(value) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_RANGE_DAYS_LIMIT:
        raise InvalidInput(
            f"MAX_RANGE_DAYS must be a whole number of days from 1 to {MAX_RANGE_DAYS_LIMIT}, "
            f"got {value!r}"
        )
    return int(text)


def check_number(where: str, value, low, high, integer: bool):
    """value within [low, high] (a whole number if integer); booleans are not numbers."""
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{where} must be {kind} from {low} to {high}, got {value!r}")
    if not math.isfinite(value) or (integer and value != int(value)):
        raise InvalidInput(f"{where} must be {kind} from {low} to {high}, got {value!r}")
    if not low <= value <= high:
        raise InvalidInput(f"{where} is {value}; it must be from {low} to {high}")
    return int(value) if integer else float(value)


def parse_training(training, defaults: Training, grids, extra_keys=()) -> Training:
    """The "training" object over `defaults`: known keys, numbers within bounds, a known grid,
    budgets within bounds, gesture names. extra_keys: keys a training backend adds (a test
    stand-in), kept as given in `extra`."""
    from training.recordings import is_gesture_name

    if not isinstance(training, dict):
        raise InvalidInput(f"training must be an object, got {training!r}")
    allowed = ("grid", *TRAINING_NUMBERS, "budgets", "gestures", *extra_keys)
    unknown_keys(training, allowed, "training")
    numbers = {
        name: check_number(f"training.{name}", training[name], low, high, integer)
        for name, (low, high, integer) in TRAINING_NUMBERS.items()
        if name in training
    }
    if "grid" in training and training["grid"] not in grids:
        raise InvalidInput(
            f"training.grid {training['grid']!r} is not a grid; the grids are {', '.join(grids)}"
        )
    budgets = training.get("budgets", {})
    if not isinstance(budgets, dict):
        raise InvalidInput(f"training.budgets must be an object, got {budgets!r}")
    unknown_keys(budgets, tuple(BUDGET_NUMBERS), "training.budgets")
    limits = {
        name: check_number(f"training.budgets.{name}", budgets[name], low, high, integer)
        for name, (low, high, integer) in BUDGET_NUMBERS.items()
        if name in budgets
    }
    gestures = training.get("gestures", list(defaults.gestures))
    if not isinstance(gestures, list) or not all(map(is_gesture_name, gestures)):
        raise InvalidInput(f"training.gestures must be a list of gesture names, got {gestures!r}")
    return replace(
        defaults,
        **numbers,
        grid=training.get("grid", defaults.grid),
        budgets=replace(defaults.budgets, **limits),
        gestures=tuple(gestures),
        extra={k: training[k] for k in extra_keys if k in training},
    )


def check_execution_input(
    payload, today: date, max_days: int, defaults: Training, grids, extra_keys=()
) -> Training:
    """The whole execution input of the main machine: keys, flags, dates and range; returns
    its training, parsed."""
    if not isinstance(payload, dict):
        raise InvalidInput(f"the input must be a JSON object like {EXAMPLE}")
    unknown_keys(payload, INPUT_KEYS, "the input")
    for flag in ("run_data_collect", "run_data_process"):
        if flag in payload and not isinstance(payload[flag], bool):
            raise InvalidInput(f"{flag} must be true or false, got {payload[flag]!r}")
    check_range(
        parse_day("time_from", payload.get("time_from", "")),
        parse_day("time_to", payload.get("time_to", "")),
        today,
        max_days,
    )
    return parse_training(payload.get("training", {}), defaults, grids, extra_keys)
