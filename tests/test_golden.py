"""Golden back-test: the shipped scenarios in tests/golden/cases.py give exactly the pinned results.

Every summary value must be equal (floats to the bit) and every digested file byte for byte. A change
that alters results on purpose regenerates the files (`python tests/golden/regenerate.py`) in the same
commit, with the reason in its message.
"""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from cases import CASES, golden_path, produce  # noqa: E402

from sim.model.kernel_choice import numba_problem  # noqa: E402

# Both request paths must give the pinned results (the compiled one where numba loads).
KERNELS = ["python", pytest.param("compiled", marks=pytest.mark.skipif(numba_problem() is not None,
                                                                       reason="numba does not load here"))]


def _differences(expected, actual, path="summary"):
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in sorted(set(expected) | set(actual)):
            if k not in actual or k not in expected:
                yield f"{path}.{k}: {'missing' if k not in actual else 'unexpected'}"
            else:
                yield from _differences(expected[k], actual[k], f"{path}.{k}")
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual)):
            yield from _differences(e, a, f"{path}[{i}]")
    elif expected != actual or type(expected) is not type(actual):
        yield f"{path}: expected {expected!r}, got {actual!r}"


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name", list(CASES))
def test_results_equal_the_golden_files(name, kernel):
    golden = json.loads(golden_path(name).read_text())
    got = json.loads(json.dumps(produce(name, kernel)))          # the same JSON round trip as the stored file
    problems = list(_differences(golden["summary"], got["summary"]))
    problems += [f"{f}: digest changed" for f in golden["digests"] if golden["digests"][f] != got["digests"].get(f)]
    problems += [f"{f}: new file not pinned" for f in got["digests"] if f not in golden["digests"]]
    assert not problems, "\n".join(problems[:30])


def test_the_comparison_can_fail():
    assert list(_differences({"a": {"b": 1.0}}, {"a": {"b": 1.0000000001}}))
    assert list(_differences({"a": 1}, {"a": 1.0}))
    assert not list(_differences({"a": [1, {"c": None}]}, {"a": [1, {"c": None}]}))
