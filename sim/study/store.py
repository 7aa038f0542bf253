"""The resume store: one JSON file per finished unit, so an interrupted study runs only what is missing.

Each file (`<unit.key>.json`) holds the unit's run summary and a fingerprint of what produced it (the cell's
resolved scenario, the replication, whether the fault-free twin ran, and the simulator's own source code). A
file whose fingerprint differs (the scenario or the simulator changed since) is ignored and its unit rerun. JSON writes a float as its shortest repr, which reads
back as the same float, so a summary read from the store is identical to the one computed.

A file is not trusted blindly: it also holds a digest (sha256) of its summary, checked on every read. A file
that is unreadable, of the wrong shape or whose summary does not match its digest (damaged, or edited by
hand) is counted in `Store.rejected` and its unit rerun; the engine says how many.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

FORMAT = 2                                   # bump when the file layout changes: older files are rerun
SUMMARY_KEYS = ("services", "kms")          # what every run summary holds (a unit missing them is damaged)


@lru_cache(maxsize=1)
def code_version() -> str:
    """sha256 of the `sim` package's source files: a store written by other code is not reused."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(unit) -> str:
    """sha256 of the unit's inputs (sorted-key JSON) and the code: equal fingerprints mean the same computation."""
    text = json.dumps({"scenario": unit.resolved, "replication": unit.replication, "baseline": unit.baseline,
                       "code": code_version()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def summary_digest(summary) -> str:
    """sha256 of the summary as JSON with sorted keys (after a JSON round trip, as it is read back)."""
    canonical = json.loads(json.dumps(summary))
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sound(data) -> bool:
    """The file's shape and its summary's digest: False for a damaged or altered file."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return False
    summary = data.get("summary")
    return (isinstance(summary, dict) and all(isinstance(summary.get(k), dict) for k in SUMMARY_KEYS)
            and data.get("digest") == summary_digest(summary))


class Store:
    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.rejected: list[str] = []          # keys of the units whose file failed its check (rerun)

    def path(self, unit) -> Path:
        return self.folder / f"{unit.key}.json"

    def load(self, unit, fp: str | None = None) -> dict | None:
        """The unit's saved run summary, or None if it is missing, from other inputs, or fails its check."""
        path = self.path(unit)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and (data.get("format") != FORMAT
                                       or data.get("fingerprint") != (fp or fingerprint(unit))):
            return None                            # other inputs, code or layout: not damaged, just stale
        if not _sound(data) or data.get("key") != unit.key:
            self.rejected.append(unit.key)
            return None
        return data["summary"]

    def save(self, unit, summary: dict, fp: str | None = None) -> None:
        """Write atomically (a temporary file, then os.replace): a file is whole or absent, never half written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.path(unit)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        data = {"format": FORMAT, "key": unit.key, "fingerprint": fp or fingerprint(unit),
                "digest": summary_digest(summary), "summary": summary}
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, separators=(",", ":"))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:                      # a full disk, an interrupt: no *.tmp file left behind
            tmp.unlink(missing_ok=True)
            raise
