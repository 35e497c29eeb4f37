"""`make bench`: run every benchmark and rewrite its section of BENCHMARKS.md.

Each benchmark runs as its own process (the way its section's command says), one after the
other, so no two of them compete for the 2 cores. Pass names to run a subset:
`.venv/bin/python -m benchmarks training_model api_handlers`.
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = {
    "api_handlers": ["--write"],
    "training_model": ["--write", "--seeds", "1,2"],
    "firmware_device": ["--write"],
    "pipeline_local": ["--write"],
    "localcloud_load": ["--write"],
    "fleet": ["--write"],
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        started = time.perf_counter()
        print(f"== benchmarks.{name} ==", flush=True)
        cmd = [sys.executable, "-m", f"benchmarks.{name}", *BENCHMARKS[name]]
        if subprocess.run(cmd).returncode != 0:
            failed.append(name)
        print(f"-- {name}: {time.perf_counter() - started:.0f} s", flush=True)
    print(f"bench-result ran={len(names)} failed={len(failed)} {' '.join(failed)}".rstrip())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
