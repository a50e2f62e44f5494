"""fastgd: gradient descent for linear models, compiled with Numba.

Estimators: ``SGDClassifier``, ``SGDRegressor`` (drop-in for scikit-learn's),
``LogisticRegression``, ``LinearRegression``. See SPEC.md for what every kernel computes.
"""

from fastgd._config import show_config
from fastgd.linear_model import (LinearRegression, LogisticRegression, SGDClassifier,
                                 SGDRegressor)

__version__ = "0.1.0"

__all__ = ["SGDClassifier", "SGDRegressor", "LogisticRegression", "LinearRegression",
           "show_config", "__version__"]
