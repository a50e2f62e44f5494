"""Load one of the installed scikit-learn's own test files with some of its estimators
replaced by fastgd's (the runners tests/test_sklearn_test_*.py).

The file's text is read, the named classes are dropped from its ``from sklearn... import``
line and bound to fastgd's in the module before its code runs, so every use (module
level parametrisations included) sees fastgd's. ``mark(tests, skip=..., xfail=...)``
puts the tests into the runner's namespace with skip marks (scikit-learn-private tests,
listed by name) and xfail marks (what fastgd does not support, with the reason).
"""

import os
import pathlib
import sys
import types

import pytest
import sklearn

import fastgd

TESTS = pathlib.Path(sklearn.__file__).parent / "linear_model" / "tests"


def load(filename, import_line, replaced):
    """The module of scikit-learn's ``linear_model/tests/<filename>``, with the names in
    ``replaced`` removed from ``import_line`` (which must be in the file) and bound to
    fastgd's classes of the same names; None when the file is not installed."""
    source = TESTS / filename
    if not source.exists():
        return None
    text = source.read_text()
    assert import_line in text, f"scikit-learn's {filename} changed its imports"
    head, names = import_line.rstrip("\n").split(" import ")
    kept = [n for n in names.split(", ") if n not in replaced]
    new_line = f"{head} import {', '.join(kept)}\n" if kept else "\n"
    module = types.ModuleType(f"sklearn_{source.stem}_on_fastgd")
    module.__file__ = str(source)
    for name in replaced:
        module.__dict__[name] = getattr(fastgd, name)
    sys.modules[module.__name__] = module  # its classes must pickle
    exec(compile(text.replace(import_line, new_line), str(source), "exec"),
         module.__dict__)
    return module


def mark(module, namespace, *, keep=lambda name, obj: True, skip=None, xfail=None):
    """Copy ``module``'s tests (those that ``keep``), fixtures and helpers into
    ``namespace``: a test named in ``skip`` is skipped with its reason, one in ``xfail``
    (name -> (reason, exception)) an expected failure, not strict."""
    skip, xfail = skip or {}, xfail or {}
    for name, obj in vars(module).items():
        if name.startswith("test_") and callable(obj):
            if not keep(name, obj):
                continue
            if name in skip:
                obj = pytest.mark.skip(reason=skip[name])(obj)
            elif name in xfail:
                reason, raises = xfail[name]
                obj = pytest.mark.xfail(raises=raises, reason=reason, strict=False)(obj)
            namespace[name] = obj
        elif not name.startswith("__") and name not in namespace:
            namespace[name] = obj  # fixtures and helpers the tests use


def global_random_seed():
    """scikit-learn's fixture (its conftest): SKLEARN_TESTS_GLOBAL_RANDOM_SEED or 42."""
    return int(os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", "42").split("-")[0])
