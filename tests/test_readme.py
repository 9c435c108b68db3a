"""README.md works as written: its Python blocks run in order, its CLI lines exit 0."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from geosource.cli import run

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    """The fenced blocks of one language ("" for bare fences), in order."""
    out, current, inside = [], [], None
    for line in README.splitlines():
        if line.startswith("```"):
            if inside is None:
                inside = line[3:].strip()
                current = []
            else:
                if inside == language:
                    out.append("\n".join(current) + "\n")
                inside = None
            continue
        if inside is not None:
            current.append(line)
    return out


def _sandbox(tmp_path: Path) -> None:
    """A working folder where the repository's layers/ and examples/ are visible."""
    for name in ("layers", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    os.chdir(tmp_path)


def test_python_blocks_run(tmp_path, monkeypatch):
    blocks = _blocks("python")
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    _sandbox(tmp_path)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)


def test_cli_lines_run(tmp_path, monkeypatch, capsys):
    lines = [
        line.strip()
        for block in _blocks("")
        for line in block.splitlines()
        if line.strip().startswith("geosource ")
    ]
    assert len(lines) >= 5
    monkeypatch.chdir(tmp_path)
    _sandbox(tmp_path)
    for line in lines:
        code = run(shlex.split(line)[1:])
        captured = capsys.readouterr()
        assert code == 0, f"{line}: {captured.err}"


@pytest.mark.parametrize("command", ["make demo", "make test"])
def test_quick_start_is_two_commands(command):
    quick = README.split("## Quick start")[1].split("##")[0]
    assert command in quick
    assert len(re.findall(r"^make \w+$", quick, flags=re.M)) == 2
