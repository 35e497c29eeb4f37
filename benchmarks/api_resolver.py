"""Our resolver (functions/api.py) against Powertools' APIGatewayRestResolver: ingest cold start
beside a bare boto3 handler, and the code each needs.

    .venv/bin/python -m benchmarks.api_resolver [--write] [--runs N]

Cold start = the CPU time of a fresh interpreter that imports the handler module and creates the
AWS clients its first request needs (the body benchmarks/api_handlers.py times; CPU time, so
other load on the machine does not count; interpreter start-up is in all three); the three are
interleaved and run side by side; medians. `--write` replaces the `## API resolver` section of
BENCHMARKS.md.
"""

import argparse
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.api_handlers import BARE, COLD_START, HANDLER_ENV, OURS, _env
from benchmarks.markdown import write_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "## API resolver"
POWERTOOLS = (
    "import benchmarks.api_powertools_handler\nfrom functions import wiring\n"
    "wiring.devices(); wiring.events(); wiring.s3()"
)


def lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.strip())


def cpu_ms(code: str) -> float:
    """CPU time (user + system) of a fresh interpreter running `code`: robust to other load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-c", COLD_START.format(body=code)],
        cwd=REPO,
        env=_env(**HANDLER_ENV),
        capture_output=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def measure(runs: int) -> dict:
    codes = {"ours": OURS, "powertools": POWERTOOLS, "bare": BARE}
    for code in codes.values():
        cpu_ms(code)  # warm-up: bytecode caches
    times = {name: [] for name in codes}
    for _ in range(runs):
        for name, code in codes.items():
            times[name].append(cpu_ms(code))
    return {name: statistics.median(values) for name, values in times.items()}


def render(ms: dict, runs: int) -> str:
    ours, pt, bare = ms["ours"], ms["powertools"], ms["bare"]
    api = lines(REPO / "functions" / "api.py")
    ingest = lines(REPO / "functions" / "ingest.py")
    pt_ingest = lines(REPO / "benchmarks" / "api_powertools_handler.py")
    verdict = "adopt" if pt <= 1.5 * bare else "keep ours"
    rows = [
        ("ours: `functions/api.py` + `functions/ingest.py`", ours, f"{api} + {ingest}"),
        (
            "Powertools `APIGatewayRestResolver(enable_validation=True)`",
            pt,
            f"{pt_ingest} (route + the same domain code)",
        ),
        ("bare boto3 handler (benchmarks/api_bare_handler.py)", bare, ""),
    ]
    table = "\n".join(f"| {n} | {v:.0f} | {v / bare:.2f}x | {c} |" for n, v, c in rows)
    return f"""{SECTION}

Command: `.venv/bin/python -m benchmarks.api_resolver --write --runs {runs}`
(one run, the three interleaved side by side; medians of {runs}; ingest route only)

| handler | cold start, CPU ms | vs bare boto3 | code we keep (non-blank lines) |
| --- | ---: | ---: | --- |
{table}

Target: adopt the library if its cold start stays within 1.5x the bare handler: **{verdict}**.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.api_resolver", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--runs", type=int, default=11, help="cold starts per handler")
    args = parser.parse_args(argv)
    text = render(measure(args.runs), args.runs)
    print(text)
    if args.write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
