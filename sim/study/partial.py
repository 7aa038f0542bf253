"""The folder of an interrupted study (`<out>.partial`), which `--resume` continues: sweep, solve, quota and
sensitivity keep their finished units there (`units/`, the engine's resume store).

`study.json` says which study it belongs to (a digest of the study's inputs). Without `--resume` an existing
partial folder is refused (its work is not thrown away); with `--resume` it must belong to the same study. A
damaged `study.json` (truncated, of the wrong shape) is rewritten with a note: every unit file is checked on
its own (fingerprint and digest, sim/study/store.py), so nothing wrong can be reused through it.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


class PartialFolderError(Exception):
    """The partial folder cannot be used; one line, ready to print."""


def partial_folder(out: Path) -> Path:
    return out.with_name(out.name + PARTIAL_SUFFIX)


def inputs_digest(*inputs) -> str:
    """sha256 of the study's inputs (JSON with sorted keys): another study never resumes this one's folder."""
    text = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stamp_digest(stamp: Path) -> str | None:
    """The digest study.json holds, or None if it is unreadable or of the wrong shape."""
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    digest = data.get("cells_digest") if isinstance(data, dict) else None
    return digest if isinstance(digest, str) else None


def _write_stamp(stamp: Path, digest: str) -> None:
    tmp = stamp.with_name(f".{stamp.name}.tmp")
    try:
        tmp.write_text(json.dumps({"cells_digest": digest}) + "\n", encoding="utf-8")
        tmp.replace(stamp)
    finally:
        tmp.unlink(missing_ok=True)


def open_partial(out: Path, digest: str, resume: bool, what: str = "sweep",
                 other: str = "other cells (the scenario, --set, --seed or --duration differ)") -> tuple[Path, bool]:
    """The partial folder (its `units/` is the engine's store) and whether it was resumed.

    Without --resume an existing one is refused; with it, it must hold this very study."""
    partial = partial_folder(Path(out))
    stamp = partial / "study.json"
    try:
        if partial.exists():
            if not resume:
                raise PartialFolderError(f"{partial}: an interrupted {what} is there; continue it with --resume, "
                                         "or delete the folder to start again")
            if not partial.is_dir() or not (stamp.is_file() or (partial / "units").is_dir()):
                raise PartialFolderError(f"{partial}: exists but was not written by a {what}; delete it or "
                                         "choose another --out")
            found = _stamp_digest(stamp)
            if found is None:
                print(f"{stamp}: damaged (not what a {what} writes); rewritten, and each saved unit is checked on "
                      "its own", file=sys.stderr)
                _write_stamp(stamp, digest)
            elif found != digest:
                raise PartialFolderError(f"{partial}: holds an interrupted {what} of {other}; resume with the same "
                                         "command, or delete it")
            (partial / "units").mkdir(exist_ok=True)
            return partial, True
        (partial / "units").mkdir(parents=True)
        _write_stamp(stamp, digest)
    except OSError as exc:
        raise PartialFolderError(f"{partial}: cannot be used ({exc.strerror or exc})") from None
    return partial, False


def discard(partial: Path) -> None:
    """Remove the partial folder once the study's files are in place (or a refused study saved nothing)."""
    shutil.rmtree(partial, ignore_errors=True)


def write_then_discard(write, partial: Path) -> bool:
    """Write the study's files (`write()`), then discard its partial folder. A write that fails keeps the
    finished units for --resume and says so in one line: False (the command exits 2)."""
    from ..output_folder import OutputFolderError
    try:
        write()
    except OutputFolderError as exc:
        print(f"error: {exc}; the finished units stay in {partial}: the same command with --resume writes them",
              file=sys.stderr)
        return False
    discard(partial)
    return True
