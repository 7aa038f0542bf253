"""Where a command writes its folder: checked before any work, written aside, moved into place file by file.

What is guaranteed (README, "Bad input and your files"):
- before anything runs, the output location is checked: absent, an empty folder or one holding earlier results
  (a folder of the user's own files is refused), names the file system accepts, and a place the program can
  write (a probe file is written and removed there);
- the files are written to a temporary folder (hidden, `.cmek-sim-tmp-*`), then moved in one by one
  (os.replace: each file is whole, old or new). Only files of the names this command writes are replaced; an
  older result file it no longer writes is removed only if the folder's list of written files (FILE_LIST)
  says the program wrote it. Nothing else in the folder is touched and the folder itself is never replaced, so
  `--out .` works and the user's notes beside the results stay;
- a write that fails is one line (OutputFolderError), leaves no temporary folder behind and the earlier
  results as they were;
- folders and files follow the umask (a temporary folder from mkdtemp is 0700 until we say otherwise).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

# A folder holding one of these was written by a run, a quota search, a study or a notebook, and may be
# rewritten by the next one.
FILE_LIST = ".cmek-sim-files.json"
RESULT_MARKERS = (FILE_LIST, "manifest.json", "summary.json", "quota.json", "sweep.json", "sensitivity.json",
                  "solve.json", "compare.json")
TMP_PREFIX = ".cmek-sim-tmp-"        # short and fixed: a long --out name still leaves room for it


class OutputFolderError(Exception):
    """The output folder cannot be used or written; one line, ready to print."""


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: Path, folder: bool) -> None:
    """Give a folder from mkdtemp (0700) or a file from mkstemp (0600) the mode open()/mkdir() would have."""
    os.chmod(path, (0o777 if folder else 0o666) & ~umask())


def _name_max(path: Path) -> int:
    """The longest name the file system of `path`'s nearest existing folder accepts (bytes)."""
    for folder in path.parents:
        try:
            if folder.is_dir():
                return os.pathconf(folder, "PC_NAME_MAX")
        except (OSError, ValueError):
            continue
    return 255


def _ours(entry: Path) -> bool:
    return entry.name.startswith(TMP_PREFIX)      # a temporary folder left by a killed run: not the user's


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_output_folder(out_dir: str | Path, *, suffixes: tuple[str, ...] = (), probe: bool = True) -> Path:
    """The resolved folder, if it may be (re)written; OutputFolderError (one line) otherwise.

    suffixes: sibling folders the command also writes (a study's `<out>.partial`): their names must fit too.
    probe: write and remove a file where the results will be written (and beside the folder for suffixes)."""
    path = Path(out_dir).absolute()               # names first: resolve() itself fails on one too long
    limit = _name_max(path)
    for part in path.parts[1:]:
        if len(part.encode()) > limit:
            raise OutputFolderError(f"{out_dir}: the name {part[:40]}... is {len(part.encode())} bytes, longer than "
                                    f"the file system allows ({limit}); choose a shorter --out")
    for suffix in suffixes:
        if len((path.name + suffix).encode()) > limit:
            raise OutputFolderError(f"{out_dir}: the name is too long to add {suffix!r} (the file system allows "
                                    f"{limit} bytes); choose a shorter --out")
    try:
        path = path.resolve()
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                raise OutputFolderError(f"{out_dir}: exists and is not a folder; choose another output folder")
            if any(not _ours(e) for e in path.iterdir()) and not any((path / m).exists() for m in RESULT_MARKERS):
                raise OutputFolderError(f"{out_dir}: exists and does not hold earlier results, so it will not be "
                                        "replaced; choose another output folder")
    except OSError as exc:
        raise OutputFolderError(f"{out_dir}: cannot be read ({_reason(exc)}); choose another output folder") from None
    if probe:
        _probe(path if path.is_dir() else path.parent, out_dir)
        if suffixes and path.is_dir():
            _probe(path.parent, out_dir)
    return path


def _probe(folder: Path, shown) -> None:
    """Create `folder` (and its missing parents), write a small file there, then remove all that was created."""
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        for p in reversed(created):
            p.mkdir()
        fd, name = tempfile.mkstemp(prefix=TMP_PREFIX, dir=folder)
        try:
            os.write(fd, b"probe\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(name)
    except OSError as exc:
        raise OutputFolderError(f"{shown}: cannot write there ({_reason(exc)}); choose another output folder") \
            from None
    finally:
        for p in created:
            try:
                p.rmdir()
            except OSError:
                pass


def _written(tmp: Path) -> list[str]:
    return sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if not p.is_dir())


def _inside(rel) -> bool:
    """A relative path that stays in the folder (the file list is read from disk: never trust it further)."""
    if not isinstance(rel, str) or not rel:
        return False
    parts = PurePosixPath(rel).parts
    return not PurePosixPath(rel).is_absolute() and ".." not in parts and rel != FILE_LIST


def read_file_list(folder: Path) -> list[str]:
    """The files the program wrote last time in `folder` ([] if it has no list or a damaged one)."""
    try:
        data = json.loads((folder / FILE_LIST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    files = data.get("files") if isinstance(data, dict) else None
    return [f for f in files if _inside(f)] if isinstance(files, list) else []


def _write_file_list(folder: Path, files) -> None:
    final = folder / FILE_LIST
    tmp = folder / f"{TMP_PREFIX}{os.getpid()}.json"
    try:
        tmp.write_text(json.dumps({"format": 1, "written_by": "cmek-sim", "files": sorted(files)}, indent=1) + "\n",
                       encoding="utf-8")
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _move_in(tmp: Path, out: Path, written: list[str], shown) -> None:
    """Each written file into `out` (replacing only files of the same names), then drop our stale ones."""
    for rel in written:                         # refuse before moving anything: a folder in a file's place
        target = out / rel
        blocking = [p for p in target.parents if p != out and out in p.parents and p.exists() and not p.is_dir()]
        if target.is_dir() and not target.is_symlink():
            blocking.append(target)
        if blocking:
            raise OutputFolderError(f"{shown}: {blocking[0].relative_to(out)} is in the way of the result file "
                                    f"{rel}; move it away")
    old = read_file_list(out)
    _write_file_list(out, set(old) | set(written))   # a crash mid-way still lists every file we put there
    for rel in written:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, out / rel)
    for rel in sorted(set(old) - set(written)):      # ours (listed) and not written this time: stale
        stale = out / rel
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
            for parent in stale.parents:             # a folder we emptied (cells/), never the results folder
                if parent == out:
                    break
                try:
                    parent.rmdir()
                except OSError:
                    break
    _write_file_list(out, written)


@contextmanager
def atomic_folder(out_dir: str | Path):
    """Yield a temporary folder; on success its files are moved into `out_dir` (see the module's doc), on any
    failure it is removed and `out_dir` is left as it was. An OSError becomes OutputFolderError (one line)."""
    out = check_output_folder(out_dir, probe=False)
    base = out if out.is_dir() else out.parent
    try:
        base.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=base))
        follow_umask(tmp, folder=True)
    except OSError as exc:
        raise OutputFolderError(f"{out_dir}: cannot write there ({_reason(exc)})") from None
    try:
        yield tmp
        written = _written(tmp)
        if not out.exists():
            _write_file_list(tmp, written)
            try:
                os.replace(tmp, out)
                return
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise                        # else the folder appeared meanwhile: move the files in
                (tmp / FILE_LIST).unlink()
        check_output_folder(out, probe=False)        # still ours: nothing else appeared there meanwhile
        _move_in(tmp, out, written, out_dir)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise OutputFolderError(f"{out_dir}: cannot write the results: {_reason(exc)}{where}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
