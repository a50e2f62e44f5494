"""JIT time users never see: kernels are cached on disk and a second process loads them."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("numba")

CODE = """
import json, numpy as np, scipy.sparse as sp
import fastgd
from fastgd.kernels import _nb_sgd
X = sp.random(40, 6, density=0.5, format="csr", random_state=0)
y = np.arange(40) % 2
fastgd.SGDClassifier(max_iter=2, tol=None).fit(X, y)
fastgd.SGDClassifier(max_iter=2, tol=None, optimizer="adam", batch_size=4).fit(X, y)
out = {}
for name in ("plain_sgd_steps", "optimizer_epoch"):
    d = getattr(_nb_sgd, name)
    out[name] = [sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values())]
print(json.dumps(out))
"""


def _run(cwd):
    # cwd away from the checkout, so that the installed fastgd is the one imported
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_second_process_hits_the_cache(tmp_path):
    _run(tmp_path)  # compiles (or already cached)
    stats = _run(tmp_path)
    for name, (hits, misses) in stats.items():
        assert hits >= 1, (name, stats)
        assert misses == 0, (name, stats)


def test_warmup_compiles_every_specialisation():
    from fastgd import kernels
    from fastgd.kernels import _nb_sgd

    kernels.warmup()
    for name in ("plain_sgd_steps", "optimizer_epoch", "margins"):
        sigs = getattr(_nb_sgd, name).signatures
        dtypes = {str(sig[0].dtype) for sig in sigs}
        assert {"float32", "float64"} <= dtypes, (name, sigs)
    # and the read-only one of memory-mapped rows (fastgd.datasets.load_mmap)
    readonly = {str(sig[0].dtype) for sig in _nb_sgd.plain_sgd_steps.signatures
                if not sig[0].mutable}
    assert readonly == {"float32", "float64"}, _nb_sgd.plain_sgd_steps.signatures
