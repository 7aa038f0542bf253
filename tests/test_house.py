"""The shape of the house: small modules, no import cycle, no private name used across modules.

These read the source (ast), so a change that breaks the shape fails here with the module named.
"""
import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    """dotted module name -> file, for every module of the sim package."""
    out = {}
    for path in sorted(SIM.rglob("*.py")):
        parts = path.relative_to(SIM.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, modules) -> list[tuple[str, list[str]]]:
    """(imported module, names imported from it) for each import of a sim module, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            if target in modules:
                found.append((target, names))
            for n in names:                      # `from sim import results` imports a module
                if f"{target}.{n}" in modules:
                    found.append((f"{target}.{n}", []))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name in modules]
    return found


def test_no_module_is_over_the_limit():
    too_long = {name: n for name, path in _modules().items()
                if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_no_private_name_is_imported_from_another_module():
    modules = _modules()
    private = [f"{name} imports {n} from {target}" for name, path in modules.items()
               for target, names in _imports(name, path, modules) for n in names
               if n.startswith("_") and not n.startswith("__")]
    assert not private, "\n".join(private)


def test_no_import_cycle_among_the_modules():
    modules = _modules()
    graph = {name: {t for t, _ in _imports(name, path, modules) if t != name} for name, path in modules.items()}
    # a package's __init__ re-exporting its own modules is not a cycle of concepts: drop package -> child edges
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_checks_can_fail(tmp_path):
    """The cycle finder and the private-name finder see what they should on a tiny package."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import _hidden\n")
    (pkg / "b.py").write_text("from .a import x\n")
    modules = {"pkg": pkg / "__init__.py", "pkg.a": pkg / "a.py", "pkg.b": pkg / "b.py"}
    assert _imports("pkg.a", pkg / "a.py", modules) == [("pkg.b", ["_hidden"])]
    assert _imports("pkg.b", pkg / "b.py", modules) == [("pkg.a", ["x"])]


def test_writing_results_does_not_import_the_charts():
    """sim.results writes and reads results folders, and the charts read through it: the runner hands the
    chart drawer to the writer, so sim.results imports nothing of sim.plots (no results <-> plots circle)."""
    modules = _modules()
    imported = {t for t, _ in _imports("sim.results", modules["sim.results"], modules)}
    assert not {t for t in imported if t == "sim.plots" or t.startswith("sim.plots.")}, imported


FOLDER_READERS = ("sim.compare", "sim.compare_files", "sim.report_page", "sim.report_sections",
                  "sim.plots.compare_timeline")
READING_CALLS = {"open", "read_text", "read_bytes", "load", "loads", "safe_load", "DictReader", "reader", "glob"}


def test_compare_and_report_read_results_folders_through_sim_results():
    """`sim compare` and `sim report` read folders only through sim.results.ResultsFolder (one reader)."""
    modules = _modules()
    found = []
    for name in FOLDER_READERS:
        for node in ast.walk(ast.parse(modules[name].read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if called in READING_CALLS:
                    found.append(f"{name}:{node.lineno} calls {called}")
    assert not found, "\n".join(found)
    assert any(t == "sim.results" and "ResultsFolder" in names
               for t, names in _imports("sim.compare", modules["sim.compare"], modules))
