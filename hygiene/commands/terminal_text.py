"""Rule documentation (Markdown with reST-style literals) rendered for a terminal.

``hygiene explain`` prints a rule's docstring. On a terminal, headings,
emphasis and code are shown as such (bold, italic, colour) instead of as
``**Why**`` and double backticks; piped or redirected, the text stays the
Markdown source, which other tools read.
"""

from __future__ import annotations

import re

import click

#: ``**Why**`` at the start of a line: a section heading, on a line of its own when rendered.
HEADING = re.compile(r"^\*\*(?P<heading>[^*\n]+)\*\*[ \t]*", re.MULTILINE)
STRONG = re.compile(r"\*\*(?P<text>[^*\n]+)\*\*")
EMPHASIS = re.compile(r"(?<![\w*])\*(?P<text>[^*\n]+)\*(?![\w*])")
CODE = re.compile(r"``(?P<text>[^`\n]+)``|(?<!`)`(?P<single>[^`\n]+)`(?!`)")


def render_for_terminal(text: str) -> str:
    """``text`` with its markup turned into terminal styles."""
    lines = []
    literal = False
    for line in text.split("\n"):
        if literal and (line.startswith("    ") or not line.strip()):
            lines.append(click.style(line, fg="cyan") if line.strip() else line)
            continue
        literal = False
        if line.rstrip().endswith("::"):
            # reST's "paragraph::" introduces an indented literal block; show one colon.
            line = line.rstrip()[:-1]
            literal = True
        lines.append(_inline(line))
    return "\n".join(lines)


def _inline(line: str) -> str:
    prefix = ""
    if match := HEADING.match(line):
        # A heading followed by text on its line gets a line of its own.
        prefix = click.style(match["heading"].strip(), bold=True, underline=True)
        line = line[match.end() :]
        if not line.strip():
            return prefix
        prefix += "\n"
    line = CODE.sub(lambda m: click.style(m["text"] or m["single"], fg="cyan"), line)
    line = STRONG.sub(lambda m: click.style(m["text"], bold=True), line)
    return prefix + EMPHASIS.sub(lambda m: click.style(m["text"], italic=True), line)
