"""Every `stop_reason` the code writes to instances.csv is documented in the README's "What a run writes"
and in docs/ARCHITECTURE.md (issue 9, point 8: the results contract's stop reasons include `replaced`)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def written_stop_reasons() -> set[str]:
    text = "\n".join(p.read_text() for p in (ROOT / "sim" / "model").glob("*.py"))
    reasons = set(re.findall(r"stop_instance\([^,]+,\s*\"(\w+)\"\)", text))
    reasons |= set(re.findall(r"stop_reason\s*=\s*\"(\w+)\"", text))
    return reasons


def test_the_code_writes_the_known_stop_reasons():
    assert written_stop_reasons() == {"start_failed", "idle", "scale_in", "replaced", "key_revocation",
                                      "end_of_run"}


def test_every_stop_reason_is_documented():
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `instances.csv` |"))
    arch = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    for reason in written_stop_reasons():
        assert f"`{reason}`" in row, reason
        assert f"`{reason}`" in arch, reason
