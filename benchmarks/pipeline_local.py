"""Pipeline benchmark: how long local executions of the real state machines take.

    .venv/bin/python -m benchmarks.pipeline_local [--write]

Side by side in one embedded moto: a one-state Pass machine (the interpreter's floor), main
with both flags false (must finish at once), main running collect with an instant stub build
(what each synchronous child adds), and main running collect with the real job process.
Median of 5 runs each. `--write` replaces the `## Pipeline` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.markdown import write_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Pipeline"
COMMAND = ".venv/bin/python -m benchmarks.pipeline_local --write"
RUNS = 5
PASS_MACHINE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def stub_build(project: str, overrides: dict):
    from localcloud.moto_adapter import BuildResult

    result = {"run_id": overrides["RUN_ID"], "windows": 0, "events": 0}
    return BuildResult("SUCCEEDED", {"PIPELINE_RESULT": json.dumps(result)})


def median_seconds(run, name: str) -> float:
    times = []
    for i in range(RUNS):
        started = time.perf_counter()
        result = run(f"{name}-{i}")
        times.append(time.perf_counter() - started)
        assert result.status == "SUCCEEDED", (name, result.error, result.cause)
    return statistics.median(times)


def measure() -> dict[str, float]:
    from localcloud.stepfunctions import LocalPipeline

    both_off = {"run_data_collect": False, "run_data_process": False}
    collect = {"run_data_collect": True, "run_data_process": False}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {"WORK_ROOT": tmp}
        with LocalPipeline(run_build=stub_build, log=lambda _: None, job_environment=env) as p:
            arn = p.sfn.create_state_machine(
                name="floor",
                definition=json.dumps(PASS_MACHINE),
                roleArn="arn:aws:iam::123456789012:role/floor",
            )["stateMachineArn"]
            p.values["FloorStateMachine"] = arn
            out["one Pass state"] = median_seconds(lambda n: p.run({}, "floor", n), "floor")
            out["main, both flags false"] = median_seconds(lambda n: p.run(both_off, name=n), "off")
            out["main + collect, stub build"] = median_seconds(
                lambda n: p.run(collect, name=n), "stub"
            )
        with LocalPipeline(log=lambda _: None, job_environment=env) as p:
            out["main + collect, real job process"] = median_seconds(
                lambda n: p.run(collect, name=n), "real"
            )
    return out


def report(times: dict[str, float]) -> str:
    floor = times["one Pass state"]
    rows = "\n".join(
        f"| {name} | {seconds:.2f} | {seconds / floor:.1f}x |" for name, seconds in times.items()
    )
    return f"""{SECTION}

Command: `{COMMAND}`
Wall time from StartExecution to a terminal status seen by the local runner (it polls every
50 ms), median of {RUNS}, all in one embedded moto. A waiting parent checks its synchronous
child (startExecution.sync:2) every 50 ms locally (moto: 0.5 s); the real job adds the
process start and its imports (boto3 alone is most of a second).

| execution | seconds | / one Pass state |
| --- | ---: | ---: |
{rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    text = report(measure())
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
