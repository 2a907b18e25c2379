"""Run the examples of a Markdown document, top to bottom, in one folder.

A fenced block's info string says what it is:

- ```` ```LANG file=PATH ````: the block is written to ``PATH`` (relative to
  the folder). A ``pyproject.toml`` is then installed the way pip would
  (a throwaway ``*.dist-info``), so its entry points load.
- ```` ```python ````: the block is run, in the folder, with the folder importable.
- ```` ```console ````: each ``$ COMMAND`` is run in the folder and what it
  prints is compared with the lines that follow it. A line ``...`` stands for
  any number of lines, ``...`` within a line for any text. ``hygiene`` runs
  in-process; other commands (``python -m pytest``) in a process of their own.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
from _throwaway_install import importable, install_project
from click.testing import CliRunner

from hygiene.cli import cli

FENCE = re.compile(r"^```(?P<language>\S*)(?P<attributes>[^\n]*)\n(?P<text>.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@attrs.define(frozen=True)
class Block:
    language: str
    attributes: dict[str, str]
    text: str
    line: int

    @property
    def runnable(self) -> bool:
        return "file" in self.attributes or self.language in ("python", "console")


def code_blocks(markdown: str) -> list[Block]:
    blocks = []
    for match in FENCE.finditer(markdown):
        attributes = dict(item.split("=", 1) for item in match["attributes"].split() if "=" in item)
        line = markdown.count("\n", 0, match.start()) + 1
        blocks.append(Block(match["language"], attributes, match["text"], line))
    return blocks


def output_pattern(expected: list[str]) -> re.Pattern:
    parts = []
    for line in expected:
        if line == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(r"[^\n]*?".join(map(re.escape, line.split("..."))) + r"\n")
    return re.compile("".join(parts))


def console_commands(text: str) -> Iterator[tuple[str, list[str]]]:
    """``(command, expected output lines)`` for each ``$ `` line of a console block."""
    command, expected = None, []
    for line in text.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, expected
            command, expected = line[2:], []
        else:
            expected.append(line)
    if command is not None:
        yield command, expected


class MarkdownExamples(contextlib.ExitStack):
    """Runs the blocks of one document in ``folder``, within a ``with`` block: the folder is the
    current one and importable until it ends; modules imported from it are forgotten then."""

    def __init__(self, document: Path, folder: Path) -> None:
        super().__init__()
        self.document = document
        self.folder = folder
        self.site = folder / ".site-packages"
        self.importable: list[Path] = [self.site, folder]

    def __enter__(self) -> MarkdownExamples:
        super().__enter__()
        self.enter_context(contextlib.chdir(self.folder))
        self.enter_context(importable(self.importable))
        return self

    def run(self, blocks: list[Block]) -> None:
        for block in blocks:
            where = f"{self.document.name}, line {block.line}"
            try:
                self._run(block)
            except AssertionError as exc:
                raise AssertionError(f"{where}: {exc}") from None
            except Exception as exc:
                raise AssertionError(f"{where}: {type(exc).__name__}: {exc}") from exc

    def _run(self, block: Block) -> None:
        if "file" in block.attributes:
            self._write(block.attributes["file"], block.text)
        elif block.language == "python":
            exec(compile(block.text, f"{self.document.name}:{block.line}", "exec"), {"__name__": "__example__"})
        elif block.language == "console":
            for command, expected in console_commands(block.text):
                output = self._command(command)
                assert output_pattern(expected).fullmatch(output), f"`{command}` printed:\n{output}\nexpected:\n" + "\n".join(expected)
        else:
            raise AssertionError(f"a {block.language or 'plain'} block that is neither a file nor run")

    def _write(self, relative: str, text: str) -> None:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        # A rewritten module must be imported afresh by whatever loads it next.
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None)
            if origin and Path(origin).is_relative_to(self.folder):
                del sys.modules[name]
        if path.name == "pyproject.toml":
            install_project(path.parent, self.site)

    def _command(self, command: str) -> str:
        argv = shlex.split(command)
        if argv[0] == "hygiene":
            result = CliRunner().invoke(cli, argv[1:], prog_name="hygiene", env={"NO_COLOR": "1"})
            return result.output
        if argv[0] == "python":
            argv[0] = sys.executable
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, self.importable)), "NO_COLOR": "1"}
        completed = subprocess.run(argv, cwd=self.folder, env=environment, capture_output=True, text=True, timeout=300)
        return completed.stdout + completed.stderr
