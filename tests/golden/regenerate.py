"""Regenerate the golden files: `python tests/golden/regenerate.py [CASE ...]`.

Run it only for a deliberate change of behaviour, and say why in the same commit.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # this tree's sim, not an installed one
from cases import CASES, golden_path, produce  # noqa: E402


def main(names: list[str]) -> None:
    for name in names or CASES:
        golden_path(name).write_text(json.dumps(produce(name), indent=1, sort_keys=True) + "\n")
        print(f"wrote {golden_path(name)}")


if __name__ == "__main__":
    main(sys.argv[1:])
