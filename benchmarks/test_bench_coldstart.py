"""pytest-benchmark: cold start in a fresh process (import, kernel warm-up, first fit).

    pytest benchmarks/test_bench_coldstart.py --benchmark-only

Each round starts a new interpreter, so the time includes Python start-up (~0.05 s; the
``python -c pass`` case measures it). With a warm Numba disk cache, ``warmup()`` only
loads compiled kernels.
"""

import os
import subprocess
import sys

import pytest

CODE = {
    "python-startup": "pass",
    "import-fastgd": "import fastgd",
    "import-and-warmup": "import fastgd.kernels; fastgd.kernels.warmup()",
    "import-sklearn-sgd": "from sklearn.linear_model import SGDClassifier",
}


@pytest.mark.parametrize("case", list(CODE))
def test_fresh_process(benchmark, case):
    # run from the home folder: from the repository root, ``import fastgd`` would pick the
    # source folder, where ``fastgd.kernels`` (built from ./kernels) is not
    run = lambda: subprocess.run([sys.executable, "-c", CODE[case]], check=True,  # noqa: E731
                                 cwd=os.path.expanduser("~"))
    run()  # fill the disk cache
    benchmark.group = "cold-start"
    benchmark.pedantic(run, rounds=3, iterations=1)
