"""The estimator test files pass on the Cython backend alone, with Numba unimportable.

One subprocess runs pytest on ``test_estimators.py``, ``test_sklearn_parity.py``,
``test_bad_input.py``, ``test_rules_reference.py`` and ``test_vr.py`` after installing a
meta-path finder that makes ``numba`` and ``llvmlite`` raise ModuleNotFoundError, with
``FASTGD_BACKEND`` unset (so ``backend='auto'`` must resolve to Cython). Tests there
that need Numba itself skip cleanly (``pytest.importorskip``).

The subprocess runs in a temporary directory with the test files given by absolute path:
``import fastgd`` then finds the installed package (editable or wheel), never the source
tree by accident, and pytest still finds the repository's ``pyproject.toml`` (rootdir,
options) and ``tests/conftest.py``. The options of pyproject's ``addopts``
(``--import-mode=importlib -p no:cacheprovider``) are also passed explicitly.
Takes about a minute on two cores.
"""

import os
import pathlib
import subprocess
import sys

import pytest

TESTS = pathlib.Path(__file__).resolve().parent
FILES = ("test_estimators.py", "test_sklearn_parity.py", "test_bad_input.py",
         "test_rules_reference.py", "test_vr.py")

_RUNNER = """
import sys


class _BlockNumba:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("numba", "llvmlite"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked for this test)",
                                      name=name)
        return None


sys.meta_path.insert(0, _BlockNumba())
import pytest

code = pytest.main(sys.argv[1:])
assert "numba" not in sys.modules and "llvmlite" not in sys.modules
import fastgd._backend as backend

assert backend.resolve_backend("auto") == "cython", backend.resolve_backend("auto")
print("FASTGD", __import__("fastgd").__file__)
sys.exit(int(code))
"""


def test_estimator_suites_pass_without_numba(tmp_path):
    pytest.importorskip("fastgd.kernels._cy_sgd",
                        reason="the Cython kernels are not built in this installation")
    pytest.importorskip("fastgd.kernels._cy_vr",
                        reason="the Cython kernels are not built in this installation")
    files = [str(TESTS / name) for name in FILES]
    missing = [f for f in files if not os.path.exists(f)]
    assert not missing, missing
    env = dict(os.environ)
    env.pop("FASTGD_BACKEND", None)
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, *files, "--import-mode=importlib",
         "-p", "no:cacheprovider", "-q",
         "--rootdir", str(TESTS.parent)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail
    import fastgd

    # the subprocess imported the same fastgd as this process (installed, not a copy)
    assert f"FASTGD {fastgd.__file__}" in proc.stdout, tail
