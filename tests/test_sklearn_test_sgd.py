"""scikit-learn's own ``linear_model/tests/test_sgd.py``, pointed at fastgd.

The installed scikit-learn's test file is read, every use of its ``SGDClassifier`` and
``SGDRegressor`` (``linear_model.SGDClassifier``, the base class of its sparse
variants...) is rebound to fastgd's, and its tests are collected here as they are. The
tests of scikit-learn's private internals, which fastgd does not have, are listed in
``PRIVATE`` and skipped by name.
"""

import os
import pathlib
import sys
import types

import pytest
import sklearn
import sklearn.linear_model as sk_linear_model

import fastgd

SOURCE = pathlib.Path(sklearn.__file__).parent / "linear_model" / "tests" / "test_sgd.py"

# tests of scikit-learn's private code (its Cython _plain_sgd, loss classes, the
# validation callback of its own fit loop) or of SGDOneClassSVM, which fastgd lacks
PRIVATE = {
    "test_loss_function_epsilon": "set_params updating its private loss objects",
    "test_validation_mask_correctly_subsets": "mocks its private _ValidationScoreCallback",
}

# runaway fits that scikit-learn returns (objective ~1e22-1e25, over a million times
# the zero model's) and fastgd refuses with its divergence error (SPEC section 6)
REFUSED = {
    "test_warm_start": "learning_rate='optimal' on SGDRegressor runs away",
    "test_partial_fit_equal_fit": "learning_rate='optimal' on SGDRegressor runs away",
    "test_numerical_stability_large_gradient": "squared_hinge on unscaled iris runs away",
}

# what fastgd does not have yet
MISSING = {}


class _LinearModel(types.ModuleType):
    """``sklearn.linear_model`` with fastgd's SGD estimators in place of its own."""

    def __getattr__(self, name):
        if name in ("SGDClassifier", "SGDRegressor"):
            return getattr(fastgd, name)
        return getattr(sk_linear_model, name)


IMPORT = "from sklearn import datasets, linear_model, metrics\n"


def _load():
    text = SOURCE.read_text()
    assert IMPORT in text, "scikit-learn's test_sgd.py changed its imports"
    module = types.ModuleType("sklearn_test_sgd_on_fastgd")
    module.__file__ = str(SOURCE)
    module.linear_model = _LinearModel("sklearn.linear_model")
    code = compile(text.replace(IMPORT, "from sklearn import datasets, metrics\n"),
                   str(SOURCE), "exec")
    sys.modules[module.__name__] = module  # its classes must pickle
    exec(code, module.__dict__)
    return module


if SOURCE.exists():
    _tests = _load()
    for _name, _obj in vars(_tests).items():
        if _name.startswith("test_") and callable(_obj):
            if _name in PRIVATE:
                _obj = pytest.mark.skip(reason=PRIVATE[_name])(_obj)
            elif _name in REFUSED:
                _obj = pytest.mark.xfail(raises=ValueError, reason=REFUSED[_name],
                                         strict=False)(_obj)
            elif _name in MISSING:
                _obj = pytest.mark.xfail(raises=AssertionError, reason=MISSING[_name],
                                         strict=False)(_obj)
            globals()[_name] = _obj
        elif not _name.startswith("__") and _name not in globals():
            globals()[_name] = _obj  # fixtures and helpers the tests use


@pytest.fixture
def global_random_seed():
    """scikit-learn's fixture (its conftest): SKLEARN_TESTS_GLOBAL_RANDOM_SEED or 42."""
    return int(os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", "42").split("-")[0])
