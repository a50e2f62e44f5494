"""fastgd: gradient descent for linear models, compiled with Numba.

Estimators: ``SGDClassifier``, ``SGDRegressor`` (drop-in for scikit-learn's),
``LogisticRegression``, ``Ridge``, ``LinearRegression``, ``Lasso``, ``ElasticNet``
(scikit-learn's, solved to tol by L-BFGS or SAG/SAGA/SVRG). Model files: ``save_model``, ``load_model`` (``fastgd.model_io``). See SPEC.md for what every kernel computes.

The public names are imported on first use (PEP 562), so ``import fastgd`` does not pay
for importing scikit-learn and SciPy until an estimator is touched.
"""

import importlib
import os

__version__ = "0.1.0"

_HERE = os.path.dirname(os.path.abspath(__file__))
if not os.path.isdir(os.path.join(_HERE, "kernels")) and os.path.isfile(
        os.path.join(os.path.dirname(_HERE), "kernels", "__init__.py")):
    # Imported from a source checkout (``python -m fastgd`` in the repository root puts
    # the checkout first on sys.path): there fastgd.kernels is ../kernels, as setup.py's
    # package_dir maps it in every install.
    __path__.append(os.path.dirname(_HERE))

_LAZY = {
    "SGDClassifier": "fastgd.linear_model",
    "SGDRegressor": "fastgd.linear_model",
    "LogisticRegression": "fastgd.linear_model",
    "LinearRegression": "fastgd.linear_model",
    "Ridge": "fastgd.linear_model",
    "Lasso": "fastgd.linear_model",
    "ElasticNet": "fastgd.linear_model",
    "show_config": "fastgd._config",
    "save_model": "fastgd.model_io",
    "load_model": "fastgd.model_io",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    try:  # a submodule, as ``fastgd.kernels`` after a plain ``import fastgd``
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module 'fastgd' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
