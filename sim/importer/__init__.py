"""`python -m sim import-service FILE`: a scenario from a Cloud Run service as gcloud exports it.

    common   the imported service record, problem lines, Cloud Run's rules, value parsing (a leaf)
    knative  the v1 form (serving.knative.dev/v1 Service, `gcloud run services describe --format export`)
    v2       the Cloud Run Admin API v2 form (REST `Service`: template.scaling, encryptionKey, ...)
    writer   the scenario YAML text, with comments
Like `validate`, it needs neither SimPy, SciPy nor matplotlib.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim import safe_yaml
from sim.importer.common import Imported, Problems, placeholder
from sim.importer.knative import is_v1, read_v1
from sim.importer.v2 import is_v2, read_v2
from sim.importer.writer import scenario_text
from sim.scenario import ScenarioError, scenario_from_dict
from sim.units import show_value
from sim.userfile import SCENARIO_LIMIT, UserFileError, read_user_text

PROTECTIONS = ("software", "hsm", "external", "external-vpc")


@dataclass
class Imports:
    """The scenario text, or the problems that stop it (one line each); warnings do not stop it."""
    text: str | None
    problems: list[str]
    warnings: list[str] = field(default_factory=list)


def read_services(file: str, text: str, problems: Problems) -> list[Imported]:
    """One Imported per non-empty document; problems for what breaks Cloud Run's rules."""
    items: list[Imported] = []
    number = 0
    try:
        for number, doc in enumerate(safe_yaml.load_all(text), start=1):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                problems.add(number, "(document)", f"not a Cloud Run Service: a {type(doc).__name__}, "
                                                   "not a mapping")
            elif is_v1(doc):
                item = read_v1(doc, number, problems)
                items += [item] if item else []
            elif is_v2(doc):
                items.append(read_v2(doc, number, problems))
            else:
                problems.add(number, "(document)", "not a Cloud Run Service: neither apiVersion/kind "
                                                   "(serving.knative.dev/v1) nor a v2 `template`")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        refused = isinstance(exc, safe_yaml.LimitError) or reason.startswith("duplicate key")
        problems.add(number + 1, "(yaml)", f"refused{where}: {reason}" if refused else f"not YAML{where}: {reason}")
    except (RecursionError, ValueError) as exc:    # a number of thousands of digits, ...
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        problems.add(number + 1, "(yaml)", f"not YAML: {reason}")
    if not items and not problems.lines:
        problems.add(None, "(file)", "no Service in the file")
    return items


def _consistent(items: list[Imported], problems: Problems) -> None:
    """One scenario has one project and one region: documents must agree."""
    for attr, what in (("region", "region"), ("project_number", "project number"), ("project_id", "project")):
        first = next((i for i in items if getattr(i, attr)), None)
        for item in items:
            value = getattr(item, attr)
            if first and value and value != getattr(first, attr):
                problems.add(item.document, what, f"{show_value(value)} differs from "
                                                  f"{show_value(getattr(first, attr))} of document "
                                                  f"{first.document}: one scenario has one {what}")
    seen: dict[str, int] = {}
    for item in items:
        if item.name in seen:
            problems.add(item.document, "name",
                         f"service {show_value(item.name)} is also document {seen[item.name]}")
        seen.setdefault(item.name, item.document)
    for item in items:   # the key's location against the region the scenario will use
        if item.key_name and not item.region and first_region(items):
            location = item.key_name.split("/")[3]
            if location != first_region(items):
                problems.add(item.document, "encryption key", f"key location {show_value(location)} differs from the "
                                                              f"region {show_value(first_region(items))}")


def first_region(items: list[Imported]) -> str | None:
    return next((i.region for i in items if i.region), None)


_SCENARIO_LINE = re.compile(r"(?P<source>.*) \(as a scenario\): (?P<path>services\[(?P<i>[0-9]+)\]\.(?P<key>\w+)\S*|"
                            r"[^:]+): (?P<reason>.*)")


def _in_file_terms(line: str, items: list[Imported]) -> str | None:
    """A problem the scenario format found, named by the file's own field (metadata.name), not the scenario's
    (services[0].name); None for the scenario's name when the service's name says the same."""
    match = _SCENARIO_LINE.fullmatch(line)
    if not match:
        return line
    if match["i"] is None:
        return None if match["path"] == "name" and len(items) == 1 else line
    item = items[int(match["i"])] if int(match["i"]) < len(items) else None
    if item is None:
        return line
    path = item.paths.get(match["key"], f"{match['path']} (the scenario's key)")
    return f"{match['source']}: document {item.document}: {path}: {match['reason']}"


def _warnings(file: str, items: list[Imported], protection_given: bool, protection: str) -> list[str]:
    """What the file says that Cloud Run would not do, placeholders where values belong, a flag with
    nothing to act on: one `warning: FILE: ...` line each."""
    lines = []
    for item in items:
        where = f"{file}: document {item.document}: "
        lines += [f"warning: {where}{text}" for text in item.warnings]
        for what, value in (("region", item.region), ("project", item.project_id), ("key", item.key_name)):
            found = placeholder(value)
            if found:
                lines.append(f"warning: {where}{item.paths.get(what, what)}: the {what} {show_value(value)} holds the "
                             f"placeholder {show_value(found)}: fill in the real value before you rely on it")
    if protection_given and not any(item.key_name for item in items):
        lines.append(f"warning: {file}: --key-protection {protection}: the file has no encryption key, so the flag "
                     "has nothing to act on")
    return lines


def import_service(file: str | Path, *, protection: str = "software", protection_given: bool = False,
                   trace: str | None = None, out_dir: str | Path | None = None) -> Imports:
    """The scenario text for the services of `file`; `trace` is written as given (relative to `out_dir`)."""
    file = str(file)
    problems = Problems(file)
    try:
        text = read_user_text(file, SCENARIO_LIMIT)
    except UserFileError as exc:
        return Imports(None, [f"{file}: {exc}"])
    items = read_services(file, text, problems)
    if not problems.lines:
        _consistent(items, problems)
    if problems.lines:
        return Imports(None, problems.lines)
    name = items[0].name if len(items) == 1 else (re.sub(r"[^A-Za-z0-9._-]", "-", Path(file).stem) or "imported")
    out = scenario_text(items, source=Path(file).name, name=name, protection=protection,
                        protection_given=protection_given, trace=trace)
    try:   # what we write must load: report in the file's terms what the scenario format refuses
        scenario_from_dict(yaml.safe_load(out), f"{file} (as a scenario)", base_dir=out_dir or Path.cwd())
    except ScenarioError as exc:
        lines = [_in_file_terms(line, items) for line in exc.problems]
        return Imports(None, [line for line in lines if line] or list(exc.problems))
    return Imports(out, [], _warnings(file, items, protection_given, protection))


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename: never a half-written scenario."""
    from ..output_folder import follow_umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        follow_umask(Path(tmp), folder=False)        # mkstemp makes it 0600; a scenario is shared like any file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(args) -> int:
    """The `import-service` command: exit 0 with the scenario written, 2 with one line per problem."""
    to_stdout = args.output in (None, "-")
    out = None if to_stdout else Path(args.output)
    if out is not None and out.exists() and not out.is_file():   # --force replaces files only, never a folder
        kind = "a folder" if out.is_dir() else "not a regular file"
        print(f"{out}: is {kind}; -o names the scenario file to write", file=sys.stderr)
        return 2
    if out is not None and out.exists() and not args.force:
        print(f"{out}: already exists (use --force to overwrite)", file=sys.stderr)
        return 2
    out_dir = Path.cwd() if out is None else out.resolve().parent
    trace = args.traffic
    if trace is not None and out is not None and not os.path.isabs(trace):
        trace = os.path.relpath(os.path.abspath(trace), out_dir)
    protection = args.key_protection or "software"
    result = import_service(args.file, protection=protection, protection_given=args.key_protection is not None,
                            trace=trace, out_dir=out_dir)
    if result.problems:
        print("\n".join(result.problems), file=sys.stderr)
        return 2
    for line in result.warnings:
        print(line, file=sys.stderr)
    if to_stdout:
        sys.stdout.write(result.text)
    else:
        if not out_dir.is_dir():
            print(f"{out}: folder {out_dir} does not exist", file=sys.stderr)
            return 2
        write_atomically(out, result.text)
        then = ("set service_time and cpu_per_request (marked TODO), then" if args.traffic else
                "set its traffic, service_time and cpu_per_request (marked TODO), then")
        print(f"{out}: written from {args.file}; {then}: python -m sim run {out}", file=sys.stderr)
    return 0
