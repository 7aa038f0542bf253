"""The README's command table lists every option of every command (issue 19 point 11)."""
from __future__ import annotations

import re

from conftest import ROOT
from sim.cli import _parser


def _rows() -> dict[str, str]:
    """command -> its row of the README's command table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## Commands"):text.index("## Start from a service")]
    rows = {}
    for line in table.splitlines():
        match = re.match(r"\| `python -m sim ([a-z-]+)", line)
        if match:
            rows[match[1]] = line.split(" | ")[0]
    return rows


def test_every_option_of_every_command_is_in_the_readme_table():
    rows = _rows()
    commands = next(a for a in _parser()._actions if a.dest == "command").choices
    missing = []
    for name, parser in commands.items():
        assert name in rows, f"{name}: no row in the README's command table"
        for action in parser._actions:
            options = [o for o in action.option_strings if o not in ("-h", "--help")]
            if options and not any(re.search(re.escape(o) + r"(?![\w-])", rows[name]) for o in options):
                missing.append(f"{name} {'/'.join(options)}")
    assert not missing, missing
