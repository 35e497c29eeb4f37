"""Read what a README tells a user to type: fenced blocks and command tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def fenced_blocks(path: Path, lang: str | None = None) -> list[Block]:
    """Every fenced block of a Markdown file (only those of `lang` if given)."""
    blocks, current, start, body = [], None, 0, []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = FENCE.match(line)
        if current is None and match:
            current, start, body = match.group(1), number, []
        elif current is not None and line.strip() == "```":
            blocks.append(Block(path, start, current, "\n".join(body)))
            current = None
        elif current is not None:
            body.append(line)
    return [b for b in blocks if lang is None or b.lang == lang]


def shell_commands(block: Block) -> list[str]:
    """The commands of an sh block: comments dropped, continuation lines joined."""
    commands, pending = [], ""
    for raw in block.text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        line = strip_comment(line)
        if line:
            commands.append(line)
    return commands


def strip_comment(line: str) -> str:
    """Drop a trailing `# comment` that is outside quotes."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.strip()


def table_rows(path: Path, heading: str) -> list[list[str]]:
    """The body rows of the first table after a `## heading`, as lists of cell texts."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip("#").strip() == heading)
    rows, seen = [], False
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            seen = True
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(cells)
        elif seen:
            break
    return rows[1:]  # without the header row


def inline_code(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)
