"""local_handlers/README.md's pdb transcript: the breakpoints it names stop where it shows."""

import re
import subprocess
import sys
from pathlib import Path

from doc_blocks import fenced_blocks, shell_commands

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "local_handlers" / "README.md"


def normalise(text: str) -> str:
    """Repository paths relative, line numbers out: the transcript need not track every edit."""
    text = text.replace(str(REPO) + "/", "")
    return re.sub(r"\(\d+\)|:\d+$", "(N)", text, flags=re.MULTILINE)


def test_the_pdb_transcript_in_local_handlers_readme_is_what_pdb_does():
    [transcript] = fenced_blocks(GUIDE, "pdb")
    [command] = [
        c
        for block in fenced_blocks(GUIDE, "sh")
        if block.line < transcript.line
        for c in shell_commands(block)
        if "--pdb" in c
    ][-1:]
    lines = transcript.text.splitlines()
    typed = [line.removeprefix("(Pdb) ") for line in lines if line.startswith("(Pdb) ")]
    shown = [normalise(line).strip() for line in lines if not line.startswith("(Pdb) ")]
    program, *args = command.split()
    assert program == ".venv/bin/python", command
    result = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        input="\n".join(typed) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = [line.strip() for line in normalise(result.stdout.replace("(Pdb) ", "\n")).splitlines()]
    missing = [line for line in shown if line not in seen]
    assert not missing, f"pdb did not show {missing}:\n{result.stdout[-3000:]}"
    assert '"statusCode": 200' in result.stdout  # and the handler ran to the end
