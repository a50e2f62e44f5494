"""The sag/saga/lbfgs-parametrised tests of scikit-learn's own
``linear_model/tests/test_logistic.py``, pointed at fastgd: its ``LogisticRegression``
is fastgd's (tests/sklearn_runner.py).

Kept: every test with a parametrisation that takes the value 'sag', 'saga', 'lbfgs' or
'newton-cholesky'; of those, the cases whose ``solver`` is another of scikit-learn's
solvers are skipped (fastgd has sag, saga, svrg, lbfgs and newton-cholesky). Skipped by name: tests of scikit-learn's private code. Expected
failures: listed with why.
"""

import pytest

from sklearn_runner import global_random_seed as _seed  # tests/ (conftest.py)
from sklearn_runner import load, mark

SAG = ("sag", "saga", "lbfgs", "newton-cholesky")

# none of the kept tests reaches scikit-learn's private code with fastgd's class
PRIVATE = {}
MISSING = {
    "test_large_sparse_matrix": (
        "fastgd's kernels read int64 indptr: sag/saga accept large sparse matrices, "
        "where scikit-learn's refuse them with a ValueError the test expects",
        pytest.fail.Exception),
}


def _values(obj):
    """Every value of every parametrize mark of ``obj`` (flattened)."""
    for m in getattr(obj, "pytestmark", []):
        if m.name != "parametrize":
            continue
        for v in m.args[1]:
            v = getattr(v, "values", v)  # pytest.param(...)
            yield from (v if isinstance(v, (tuple, list)) else (v,))


def _sag_parametrised(name, obj):
    return any(isinstance(v, str) and v in SAG for v in _values(obj))


_module = load("test_logistic.py", "from sklearn.linear_model import LogisticRegression, "
               "LogisticRegressionCV, SGDClassifier\n", ("LogisticRegression",))
if _module is not None:
    mark(_module, globals(), keep=_sag_parametrised, skip=PRIVATE, xfail=MISSING)


@pytest.fixture(autouse=True)
def _sag_cases_only(request):
    """Skip the cases of another of scikit-learn's solvers (liblinear, newton-cg...)."""
    callspec = getattr(request.node, "callspec", None)
    solver = callspec.params.get("solver") if callspec is not None else None
    if isinstance(solver, str) and solver not in SAG:
        pytest.skip(f"solver={solver!r}: scikit-learn's, not fastgd's")


@pytest.fixture
def global_random_seed():
    return _seed()
