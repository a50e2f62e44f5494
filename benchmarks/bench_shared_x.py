"""Two concurrent fits (two Python threads) on one shared X against two on private
copies, per backend, as ratios to one fit alone (issue 16: "two concurrent Cython fits
sharing one X took 2.2x one fit's time, against 1.09x with private copies").

    python benchmarks/bench_shared_x.py DATASET [csr|dense] [param=value ...]
    python benchmarks/bench_shared_x.py covtype csr optimizer=adam

The minimum of 3 interleaved repeats of each; 5 epochs of SGDClassifier(loss='log_loss').
"""
import copy
import os
import sys
import threading
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402

import fastgd  # noqa: E402
from fastgd._backend import wait_for_numba  # noqa: E402

warnings.simplefilter("ignore")
name = sys.argv[1] if len(sys.argv) > 1 else "covtype"
ds = compare.load_dataset(name, os.path.join(HERE, "..", "..", "shared", "data"),
                          os.path.join(HERE, "results", "cache"))
X, y = ds["X"], ds["y"]
dense = len(sys.argv) > 2 and sys.argv[2] == "dense"
if dense:
    X = X.toarray()
extra = dict(a.split("=") for a in sys.argv[3:])
kw = dict(loss="log_loss", max_iter=5, tol=None, random_state=0)
for k, v in extra.items():
    kw[k] = v if not v.replace(".", "").isdigit() else (float(v) if "." in v else int(v))

def fit(backend, Xi):
    fastgd.SGDClassifier(backend=backend, **kw).fit(Xi, y)

def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t

def two(backend, Xa, Xb):
    ts = [threading.Thread(target=fit, args=(backend, Xa)), threading.Thread(target=fit, args=(backend, Xb))]
    [t.start() for t in ts]; [t.join() for t in ts]

for b in ("cython", "numba"):
    fit(b, X)
wait_for_numba()
res = {}
for rep in range(3):
    for b in ("cython", "numba"):
        Xc = copy.deepcopy(X)
        res.setdefault((b, "one"), []).append(timed(lambda: fit(b, X)))
        res.setdefault((b, "shared"), []).append(timed(lambda: two(b, X, X)))
        res.setdefault((b, "private"), []).append(timed(lambda: two(b, X, Xc)))
for b in ("cython", "numba"):
    one = min(res[(b, "one")])
    print(f"{name} {'dense' if dense else 'csr'} {kw} {b}: one {one:.3f}s  two shared {min(res[(b,'shared')])/one:.2f}x  two private {min(res[(b,'private')])/one:.2f}x")
