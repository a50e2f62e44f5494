"""fastgd against scikit-learn, lightning, tick, copt and Vowpal Wabbit on one objective.

    python benchmarks/compare.py [--quick] [--only a9a synth-1e6] [--methods fastgd sklearn-sgd]
                                 [--sizes 1e6,1e7] [--data ../shared/data] [--out bench_out]

Every method is scored on F(w, b) of SPEC section 1 (log_loss on the binary sets with
y in {-1, +1}, squared_error on the regression sets, alpha = 1e-4), computed by
``fastgd.objective.objective`` on the training data; ``benchmarks/peers.py`` maps alpha
to each library's parameter. See benchmarks/README.md for every column. In short:

* budgets: each method is run FRESH (not warm-started) with increasing budgets
  (epochs 1, 2, 4, ..., 32 for the stochastic solvers; iterations 1, 2, 4, ..., 512 for
  lbfgs / sparse_cg), tol as small as the library allows, until it reaches relative
  suboptimality 1e-6 or has spent ``--max-seconds`` on the dataset. Time to a target is
  the wall time of the first (fresh) fit whose final F meets it.
* F* is SciPy L-BFGS-B to gtol 1e-11 (cached in OUT/optimum.json), lowered to any
  method's better final value.
* s/epoch: wall time of the largest-budget fit / its epochs (or iterations);
  s/epoch marginal: the slope between the two largest budgets (fixed costs removed).
* peak memory: in a fresh subprocess per method (see ``memory_child``).

Outputs in OUT: results.json (all raw numbers, machine info), results.md (tables),
plot_<dataset>.png (suboptimality vs time); each starts with the command line.
"""

import argparse
import bz2
import json
import lzma
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bandwidth  # noqa: E402
import peers  # noqa: E402
import synthetic  # noqa: E402

TARGETS = (1e-2, 1e-4, 1e-6)
REAL = {  # name: (train file, test file or None, task)
    "a9a": ("a9a.xz", "a9a.t.xz", "clf"),
    "w8a": ("w8a.xz", None, "clf"),
    "mushrooms": ("mushrooms.xz", None, "clf"),
    "reuters": ("reuters.trn.bz2", "reuters.tst.bz2", "clf"),
    "ijcnn1": ("ijcnn1.trn.bz2", "ijcnn1.tst.bz2", "clf"),
    "covtype": ("covtype.libsvm.binary.xz", None, "clf"),
    "debian-size": ("debian-size.svm.xz", None, "reg"),
    "abalone": ("abalone.trn.bz2", None, "reg"),
    "housing": ("housing_scale.xz", None, "reg"),
}
TEST_FILES = {v[1] for v in REAL.values() if v[1]}
QUICK_DATASETS = ("a9a", "housing")


# ---------------------------------------------------------------------- data
def _read(path, n_features=None):
    from sklearn.datasets import load_svmlight_file

    opener = lzma.open if path.endswith(".xz") else bz2.open if path.endswith(".bz2") \
        else open
    with opener(path, "rb") as f:
        X, y = load_svmlight_file(f, n_features=n_features)
    return X, y


def _csr32(X):
    X = sp.csr_matrix(X, dtype=np.float64)
    X.indices = X.indices.astype(np.int32)  # scikit-learn's sag wants 32-bit indices
    X.indptr = X.indptr.astype(np.int32)
    return X


def dataset_names(data_dir, sizes):
    names = []
    if os.path.isdir(data_dir):
        files = sorted(os.listdir(data_dir))
        for name, (train, _, _) in REAL.items():
            if train in files:
                names.append(name)
        known = {v[0] for v in REAL.values()} | TEST_FILES | {"README.md"}
        names += [f for f in files if f not in known and f.endswith((".xz", ".bz2"))]
    names += [f"synth-{synthetic.size_label(s)}" for s in sizes]
    return names


def load_dataset(name, data_dir, cache_dir):
    """dict(X, y, Xt, yt, task, notes): train/test, X CSR float64 with int32 indices."""
    os.makedirs(cache_dir, exist_ok=True)
    cache = os.path.join(cache_dir, f"{name}.npz")
    if os.path.exists(cache):
        z = np.load(cache, allow_pickle=False)
        X = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        Xt = sp.csr_matrix((z["tdata"], z["tindices"], z["tindptr"]),
                           shape=tuple(z["tshape"]))
        return dict(X=X, y=z["y"], Xt=Xt, yt=z["yt"], task=str(z["task"]),
                    notes=str(z["notes"]))
    notes = []
    if name.startswith("synth-"):
        nnz = int(float(name.split("-", 1)[1]))
        X, y = synthetic.make_powerlaw(nnz, task="clf", seed=0)
        task, test = "clf", None
        notes.append("synthetic power-law, seed 0 (benchmarks/synthetic.py)")
    else:
        train, test, task = REAL.get(name, (name, None, None))
        X, y = _read(os.path.join(data_dir, train))
        if test:
            Xt, yt = _read(os.path.join(data_dir, test))
            d = max(X.shape[1], Xt.shape[1])
            X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], d))
            Xt = sp.csr_matrix((Xt.data, Xt.indices, Xt.indptr), shape=(Xt.shape[0], d))
            notes.append(f"test split {test}")
        if task is None:
            task = "clf" if np.unique(y).shape[0] == 2 else "reg"
        if task == "clf":
            hi = y.max()
            y = np.where(y == hi, 1.0, -1.0)
            if test:
                yt = np.where(yt == hi, 1.0, -1.0)
            if name == "covtype":
                notes.append("labels 2 -> +1, 1 -> -1")
    if test is None:
        from sklearn.model_selection import train_test_split

        X, Xt, y, yt = train_test_split(X, y, test_size=0.2, random_state=0)
        notes.append("80/20 split (random_state=0)")
    if name == "covtype":
        from sklearn.preprocessing import MaxAbsScaler

        scaler = MaxAbsScaler().fit(X)
        X, Xt = scaler.transform(X), scaler.transform(Xt)
        notes.append("MaxAbsScaler fitted on the training part")
    X, Xt = _csr32(X), _csr32(Xt)
    y, yt = np.asarray(y, np.float64), np.asarray(yt, np.float64)
    np.savez(cache, data=X.data, indices=X.indices, indptr=X.indptr, shape=X.shape,
             tdata=Xt.data, tindices=Xt.indices, tindptr=Xt.indptr, tshape=Xt.shape,
             y=y, yt=yt, task=task, notes="; ".join(notes))
    return dict(X=X, y=y, Xt=Xt, yt=yt, task=task, notes="; ".join(notes))


def get_optimum(out, name, ds, alpha):
    path = os.path.join(out, "optimum.json")
    cache = json.load(open(path)) if os.path.exists(path) else {}
    X, y = ds["X"], ds["y"]
    key = f"{name}|{ds['task']}|alpha={alpha!r}|{X.shape[0]}x{X.shape[1]}|nnz={X.nnz}"
    if key not in cache:
        t = time.perf_counter()
        fstar, _, _, g = peers.optimum(X, y, ds["task"], alpha)
        cache[key] = dict(fstar=fstar, grad_inf=g, seconds=time.perf_counter() - t)
        json.dump(cache, open(path, "w"), indent=1)
    return cache[key]


# ------------------------------------------------------------------ measuring
def test_score(fit, ds):
    p = ds["Xt"] @ fit.coef + fit.intercept
    if ds["task"] == "clf":
        return float(np.mean(np.where(p >= 0, 1.0, -1.0) == ds["yt"]))
    from sklearn.metrics import r2_score

    return float(r2_score(ds["yt"], p)) if np.isfinite(p).all() else float("nan")


REPEAT_BELOW_S = 0.5  # fits shorter than this are repeated (--repeat) and the min kept


def run_method(method, ds, alpha, budgets, max_seconds, fstar, repeat=1):
    """Fresh fits with increasing budgets; returns the record of this method."""
    X, y, task = ds["X"], ds["y"], ds["task"]
    rec = dict(method=method.name, library=method.library, unit=method.unit, points=[])
    data = method.prepare(X, y, task, alpha)
    try:
        small = min(X.shape[0], 300)
        method.fit(method.prepare(X[:small], y[:small], task, alpha), task, alpha, 1)
    except Exception:  # noqa: BLE001  (the real fit reports the error)
        pass
    spent = 0.0
    fit = None
    try:
        for b in budgets:
            dt = np.inf
            for r in range(repeat):  # repeat short fits, keep the fastest (noisy machines)
                t = time.perf_counter()
                fit = method.fit(data, task, alpha, b)
                dt = min(dt, time.perf_counter() - t)
                spent += dt
                if dt > REPEAT_BELOW_S:
                    break
            f = peers.objective(X, y, fit.coef, fit.intercept, task, alpha)
            rec["points"].append(dict(budget=b, n_iter=fit.n_iter or b, seconds=dt,
                                      objective=f, **fit.info))
            if not np.isfinite(f):
                rec["error"] = "diverged (non-finite objective)"
                break
            if (f - fstar) / abs(fstar) <= 1e-6:
                break
            if spent > max_seconds:
                rec["stopped"] = f"time cap {max_seconds:g} s"
                break
    except Exception as exc:  # noqa: BLE001
        rec["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    finally:
        if hasattr(method, "cleanup"):
            method.cleanup(data)
    if fit is not None and rec["points"]:
        rec["test_score"] = test_score(fit, ds)
        rec["info"] = fit.info
    return rec


def finish_record(rec, fstar, nbytes, bw, nnz):
    pts = rec["points"]
    for p in pts:
        p["rel_subopt"] = (p["objective"] - fstar) / abs(fstar)
    for eps in TARGETS:
        hit = [p for p in pts if np.isfinite(p["objective"]) and p["rel_subopt"] <= eps]
        rec[f"time_to_{eps:g}"] = hit[0]["seconds"] if hit else None
        rec[f"budget_to_{eps:g}"] = hit[0]["budget"] if hit else None
    if pts:
        last = pts[-1]
        rec["s_per_epoch"] = last["seconds"] / max(last["n_iter"], 1)
        if len(pts) >= 2 and last["n_iter"] > pts[-2]["n_iter"]:
            rec["s_per_epoch_marginal"] = ((last["seconds"] - pts[-2]["seconds"])
                                           / (last["n_iter"] - pts[-2]["n_iter"]))
        rec["x_bound"] = rec["s_per_epoch"] / (nbytes / (bw * 1e9))
        rec["ns_per_nnz"] = rec["s_per_epoch"] / nnz * 1e9
        rec["final_rel_subopt"] = last["rel_subopt"]
    return rec


# -------------------------------------------------------------- memory child
def memory_child(spec):
    """Peak memory of one fit, in this (fresh) process.

    Loads the cached dataset, runs ``prepare`` and a warm-up fit on 300 rows (imports,
    JIT cache loads), then measures one fit of ``budget``:
    * rss: VmHWM - VmRSS-before (the kernel's peak-RSS counter is reset first by writing
      5 to /proc/self/clear_refs; if that is refused, ru_maxrss - RSS before), covering
      every allocator (NumPy, Numba's NRT, C/C++ libraries);
    * traced: tracemalloc's peak during a second identical fit: allocations made
      through Python/NumPy only (NumPy reports its buffers to tracemalloc; Numba's NRT
      and C++ libraries do not).
    Copies made by ``prepare`` (e.g. the appended intercept column of lightning/copt,
    VW's text file) are not counted.
    """
    import resource
    import tracemalloc

    ds = load_dataset(spec["dataset"], spec["data"], spec["cache"])
    method = peers.get([spec["method"]])[0]
    X = ds["X"].astype(spec["dtype"]) if spec["dtype"] != "float64" else ds["X"]
    y, task, alpha = ds["y"], ds["task"], spec["alpha"]
    warnings.simplefilter("ignore")
    small = min(X.shape[0], 300)
    try:
        method.fit(method.prepare(X[:small], y[:small], task, alpha), task, alpha, 1)
    except Exception:  # noqa: BLE001
        pass
    data = method.prepare(X, y, task, alpha)

    def status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        return 0

    rss0 = status("VmRSS:")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        how = "VmHWM reset"
    except OSError:
        how = "ru_maxrss"
    method.fit(data, task, alpha, spec["budget"])
    peak = status("VmHWM:") if how == "VmHWM reset" else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    method.fit(data, task, alpha, spec["budget"])
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if hasattr(method, "cleanup"):
        method.cleanup(data)
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return dict(rss_peak_mb=max(peak - rss0, 0) / 2**20, traced_peak_mb=traced / 2**20,
                x_mb=x_bytes / 2**20, rss_method=how)


def measure_memory(method_name, dataset, dtype, args, budget=2):
    spec = dict(method=method_name, dataset=dataset, dtype=dtype, alpha=args.alpha,
                budget=budget, data=args.data, cache=os.path.join(args.out, "cache"))
    try:
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-child",
                              json.dumps(spec)], capture_output=True, text=True,
                             timeout=600)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except Exception as exc:  # noqa: BLE001
        return dict(error=f"{type(exc).__name__}: {str(exc)[:200]}")


# ----------------------------------------------------------------- cold start
COLD_IMPORT = ("import time; t = time.perf_counter(); import fastgd; "
               "print(time.perf_counter() - t)")
COLD_WARMUP = ("import time; import fastgd, fastgd.kernels; t = time.perf_counter(); "
               "fastgd.kernels.warmup(); print(time.perf_counter() - t)")
# the estimator class is imported (scikit-learn comes with it) before the first fit is
# timed; that import is reported on its own
COLD_FIT = """
import sys, time, warnings
sys.path.insert(0, {here!r})
warnings.simplefilter('ignore')
import synthetic
X, y = synthetic.make_powerlaw(200000, seed=0)
t = time.perf_counter()
from fastgd import SGDClassifier
t_class = time.perf_counter() - t
ts = []
for _ in range(2):
    est = SGDClassifier(loss='log_loss', max_iter=5, tol=None, random_state=0)
    t = time.perf_counter()
    est.fit(X, y)
    ts.append(time.perf_counter() - t)
print(t_class, ts[0], ts[1])
"""


def cold_start(repeat=1):
    """Fresh-process times: ``import fastgd``; ``from fastgd import SGDClassifier``
    (imports scikit-learn); first ``fit`` - second ``fit`` (warm Numba disk cache);
    ``fastgd.kernels.warmup()`` with the warm cache and cold (an empty NUMBA_CACHE_DIR:
    every kernel compiled)."""
    def run(code, env=None):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=os.path.expanduser("~"),
                             env=env).stdout.split()
        return [float(v) for v in out]

    res = dict(import_s=[], class_import_s=[], warmup_s=[], first_fit_s=[],
               second_fit_s=[])
    try:
        for _ in range(repeat):
            res["import_s"].append(run(COLD_IMPORT)[-1])
            res["warmup_s"].append(run(COLD_WARMUP)[-1])
            c, a, b = run(COLD_FIT.format(here=HERE))[-3:]
            res["class_import_s"].append(c)
            res["first_fit_s"].append(a)
            res["second_fit_s"].append(b)
        with tempfile.TemporaryDirectory() as cache:
            cold = run(COLD_WARMUP, env=dict(os.environ, NUMBA_CACHE_DIR=cache))[-1]
    except Exception as exc:  # noqa: BLE001
        return dict(error=f"{type(exc).__name__}: {str(exc)[:300]}")
    med = {k: float(np.median(v)) for k, v in res.items()}
    med["first_minus_second_s"] = med["first_fit_s"] - med["second_fit_s"]
    med["warmup_cold_s"] = cold
    med["raw"] = res
    return med


# ------------------------------------------------------------------ machine
def machine_info():
    info = dict(date=time.strftime("%Y-%m-%d %H:%M:%S"), platform=platform.platform(),
                python=platform.python_version(), cores=os.cpu_count())
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f
                               if line.startswith("model name"))
        with open("/proc/meminfo") as f:
            info["ram_gb"] = int(f.readline().split()[1]) / 2**20
    except (OSError, StopIteration):
        pass
    versions = {}
    for mod in ("fastgd", "numpy", "scipy", "sklearn", "numba", "lightning", "tick", "copt",
                "vowpalwabbit", "matplotlib"):
        try:
            m = __import__(mod)
            versions[mod] = getattr(m, "__version__", "?")
        except Exception:  # noqa: BLE001
            versions[mod] = None
    info["versions"] = versions
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "num_threads")}
                               for p in threadpool_info()]
    except Exception:  # noqa: BLE001
        pass
    return info


# ------------------------------------------------------------------ reports
def _fmt(v, spec=".3g"):
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else \
        format(v, spec)


def _best(d, fastgd, eps):
    """(seconds, method) of the fastest method of one side to relative suboptimality eps."""
    hits = [(r[f"time_to_{eps:g}"], r["method"]) for r in d["methods"]
            if not r.get("skipped") and r.get(f"time_to_{eps:g}") is not None
            and (r["library"] == "fastgd") == fastgd]
    return min(hits) if hits else None


def goals_table(results):
    """Issue 6's goals per dataset, from this run's records (ratios of the same run)."""
    def rec(d, name):
        return next((r for r in d["methods"] if r["method"] == name and r.get("s_per_epoch")),
                    None)

    def ratio(d, a, b):
        ra, rb = rec(d, a), rec(d, b)
        if ra is None or rb is None:
            return "–"
        return (f"{ra['s_per_epoch'] * 1e3:.1f} / {rb['s_per_epoch'] * 1e3:.1f} ms = "
                f"**{ra['s_per_epoch'] / rb['s_per_epoch']:.2f}×**")

    def best(d, eps):
        f, o = _best(d, True, eps), _best(d, False, eps)
        cell = lambda h: "not reached" if h is None else f"{h[0]:.3f} s ({h[1]})"  # noqa
        win = ("–" if f is None and o is None else "fastgd" if o is None
               or (f is not None and f[0] < o[0]) else "peer")
        return f"{cell(f)} | {cell(o)} | {win}"

    def speedup(d, one, two):
        a, b = rec(d, one), rec(d, two)
        return f"{a['s_per_epoch'] / b['s_per_epoch']:.2f}×" if a and b else "–"

    lines = ["| dataset | nnz | fastgd / sklearn SGD s per epoch, float64 | same, float32 "
             "| fastgd SGD × bound | 2 threads / 1, s per epoch: Hogwild! SGD, ASAGA, "
             "AsySVRG | best fastgd → 1e-4 | best peer → 1e-4 | faster |",
             "|---|---:|---:|---:|---:|---:|---|---|---|"]
    for name, d in results.items():
        sgd = rec(d, "fastgd-sgd")
        xb = f"{sgd['x_bound']:.0f}" if sgd else "–"
        par = ", ".join(speedup(d, f"fastgd-{m}", f"fastgd-{m}-2jobs")
                        for m in ("sgd", "saga", "svrg"))
        lines.append(f"| {name} | {d['nnz']:,} | {ratio(d, 'fastgd-sgd', 'sklearn-sgd')} | "
                     f"{ratio(d, 'fastgd-sgd-f32', 'sklearn-sgd-f32')} | {xb} | {par} | "
                     f"{best(d, 1e-4)} |")
    return lines + [""]


def markdown(results, meta, command):
    lines = [f"<!-- generated by: {command} -->", "",
             f"`{command}`", "",
             f"Measured {meta['machine']['date']} on {meta['machine'].get('cpu', '?')} "
             f"({meta['machine']['cores']} cores, {meta['machine'].get('ram_gb', 0):.0f} GiB), "
             f"alpha = {meta['alpha']:g}, single-thread read bandwidth "
             f"{meta['bandwidth_gbs']:.1f} GB/s (benchmarks/bandwidth.py).", ""]
    cs = meta.get("cold_start", {})
    if "import_s" in cs:
        lines += [f"Cold start (fresh process, median of {len(cs['raw']['import_s'])}): "
                  f"`import fastgd` {cs['import_s']:.3f} s; "
                  f"`from fastgd import SGDClassifier` (imports scikit-learn) "
                  f"{cs.get('class_import_s', float('nan')):.2f} s; first `fit` − second "
                  f"`fit` (warm disk cache) {cs['first_minus_second_s']:.2f} s; "
                  f"`fastgd.kernels.warmup()` {cs['warmup_s']:.2f} s with the warm cache, "
                  f"{cs.get('warmup_cold_s', float('nan')):.1f} s cold (empty cache: every "
                  "kernel compiled).", ""]
    lines += goals_table(results)
    for name, d in results.items():
        lines += [f"### {name}", "",
                  f"{d['n_samples']:,} × {d['n_features']:,}, nnz {d['nnz']:,}, task "
                  f"{d['task']}, F* = {d['fstar']:.10g}; {d['notes']}. Epoch bound "
                  f"{d['bound_s'] * 1e3:.2f} ms ({d['epoch_bytes'] / 1e6:.1f} MB).", "",
                  "| method | s/epoch | marginal | × bound | ns/nnz | t→1e-2 | t→1e-4 | t→1e-6 "
                  "| final subopt (budget) | test | peak MB rss / traced | note |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in d["methods"]:
            if r.get("skipped"):
                lines.append(f"| {r['method']} | | | | | | | | | | | skipped: {r['skipped']} |")
                continue
            mem = r.get("memory", {})
            mem_s = (f"{mem['rss_peak_mb']:.1f} / {mem['traced_peak_mb']:.1f}"
                     if "rss_peak_mb" in mem else "–")
            last = r["points"][-1] if r["points"] else None
            unit = "it" if r["unit"] == "iteration" else "ep"
            final = (f"{_fmt(r.get('final_rel_subopt'), '.1e')} ({last['budget']} {unit})"
                     if last else "–")
            note = "; ".join(str(x) for x in (r.get("error"), r.get("stopped"),
                                              (r.get("info") or {}).get("note")) if x)
            lines.append(
                f"| {r['method']} | {_fmt(r.get('s_per_epoch'), '.4f')}"
                f"{'/it' if r['unit'] == 'iteration' else ''} | "
                f"{_fmt(r.get('s_per_epoch_marginal'), '.4f')} | {_fmt(r.get('x_bound'), '.0f')} | "
                f"{_fmt(r.get('ns_per_nnz'), '.1f')} | {_fmt(r.get('time_to_0.01'), '.3f')} | "
                f"{_fmt(r.get('time_to_0.0001'), '.3f')} | {_fmt(r.get('time_to_1e-06'), '.3f')} | "
                f"{final} | {_fmt(r.get('test_score'), '.4f')} | {mem_s} | {note} |")
        mem_rows = d.get("no_copy", [])
        if mem_rows:
            lines += ["", "No copy of X (fastgd-sgd, peak memory of the fit vs size of X):",
                      "", "| dtype | X MB | peak MB rss | peak MB traced |", "|---|---:|---:|---:|"]
            lines += [f"| {m['dtype']} | {m.get('x_mb', 0):.1f} | "
                      f"{_fmt(m.get('rss_peak_mb'), '.1f')} | {_fmt(m.get('traced_peak_mb'), '.1f')} |"
                      for m in mem_rows]
        lines.append("")
    synth = [(n, d) for n, d in results.items() if n.startswith("synth-")]
    if synth:
        lines += ["### Cost per non-zero (synthetic, s/epoch ÷ nnz)", "",
                  "| dataset | nnz | method | s/epoch | ns per nnz |", "|---|---:|---|---:|---:|"]
        for n, d in synth:
            for r in d["methods"]:
                if r.get("s_per_epoch"):
                    lines.append(f"| {n} | {d['nnz']:,} | {r['method']} | "
                                 f"{r['s_per_epoch']:.4f} | {r['ns_per_nnz']:.1f} |")
        lines.append("")
    return "\n".join(lines)


def plot(name, d, out, command):
    """plot_<name>.png: relative suboptimality against the wall time of each fresh fit,
    fastgd solid, peers dashed (``fastgd.plot.plot_convergence``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from fastgd.plot import plot_convergence
    except ImportError:
        return None
    curves = {}
    for r in d["methods"]:
        pts = [p for p in r.get("points", []) if np.isfinite(p["objective"])]
        if pts:
            curves[r["method"]] = dict(
                seconds=[p["seconds"] for p in pts], subopt=[p["rel_subopt"] for p in pts],
                style={"ls": "-" if r["library"] == "fastgd" else "--"})
    fig = plot_convergence(
        curves, x="seconds", targets=TARGETS, floor=1e-16,
        xlabel="wall time of a fresh fit (s)",
        title=f"{name}: {d['n_samples']:,} x {d['n_features']:,}, nnz {d['nnz']:,}")
    fig.text(0.01, 0.005, command, fontsize=6, family="monospace")
    path = os.path.join(out, f"plot_{name}.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ------------------------------------------------------------------ main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data"))
    parser.add_argument("--out", default="bench_out")
    parser.add_argument("--quick", action="store_true",
                        help="tiny budgets on 2 datasets (a9a, housing): a smoke test")
    parser.add_argument("--only", nargs="*", default=None, help="dataset names")
    parser.add_argument("--methods", nargs="*", default=None,
                        help="method names or libraries (see peers.all_methods)")
    parser.add_argument("--sizes", default="1e6,1e7",
                        help="synthetic nnz, comma separated ('' for none; 1e8 is opt-in)")
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="stop raising a method's budget once it spent this much")
    parser.add_argument("--repeat", type=int, default=3,
                        help=f"fits shorter than {REPEAT_BELOW_S} s are run this many times "
                             "and the fastest is kept")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-cold", action="store_true")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.memory_child:
        print(json.dumps(memory_child(json.loads(args.memory_child))))
        return
    command = "python " + " ".join(shlex.quote(a) for a in
                                   ([os.path.relpath(__file__)] + (argv or sys.argv[1:])))
    os.makedirs(args.out, exist_ok=True)
    cache_dir = os.path.join(args.out, "cache")
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    if args.quick:
        epochs, iters = [1, 2, 4], [2, 8, 32]
        max_seconds = min(args.max_seconds, 10.0)
        sizes = []
    else:
        epochs, iters = [1, 2, 4, 8, 16, 32], [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        max_seconds = args.max_seconds
    names = dataset_names(args.data, sizes)
    if not os.path.isdir(args.data):
        print(f"note: no data folder at {args.data}; synthetic problems only")
    if args.quick and not args.only:
        names = [n for n in names if n in QUICK_DATASETS] or names[:2]
    if args.only:
        names = [n for n in names if n in args.only] + \
            [n for n in args.only if n.startswith("synth-") and n not in names]

    meta = dict(command=command, alpha=args.alpha, epochs_budgets=epochs,
                iteration_budgets=iters, max_seconds=max_seconds, machine=machine_info())
    print(f"# {command}\n# {meta['machine'].get('cpu')}, {meta['machine']['cores']} cores",
          flush=True)
    meta["bandwidth_gbs"] = bandwidth.measure(mb=256 if args.quick else 512,
                                              repeat=3 if args.quick else 7)
    print(f"bandwidth {meta['bandwidth_gbs']:.1f} GB/s", flush=True)
    if not args.no_cold:
        meta["cold_start"] = cold_start(repeat=1 if args.quick else 3)
        print(f"cold start {meta['cold_start']}", flush=True)

    methods = peers.get(args.methods)
    avail = {}
    for m in methods:
        avail[m.name] = m.available()
        if not avail[m.name][0]:
            print(f"note: skipping {m.name}: {avail[m.name][1]}", flush=True)

    results = {}
    for name in names:
        ds = load_dataset(name, args.data, cache_dir)
        X, y, task = ds["X"], ds["y"], ds["task"]
        opt = get_optimum(args.out, name, ds, args.alpha)
        nbytes = bandwidth.epoch_bytes(X, y)
        d = dict(task=task, n_samples=X.shape[0], n_features=X.shape[1], nnz=int(X.nnz),
                 notes=ds["notes"], fstar_lbfgs=opt["fstar"], lbfgs_grad_inf=opt["grad_inf"],
                 epoch_bytes=nbytes, bound_s=nbytes / (meta["bandwidth_gbs"] * 1e9),
                 methods=[])
        print(f"\n## {name}: {X.shape}, nnz {X.nnz}, F*={opt['fstar']:.10g}", flush=True)
        for m in methods:
            if task not in m.tasks:
                continue
            if not avail[m.name][0]:
                d["methods"].append(dict(method=m.name, library=m.library,
                                         skipped=avail[m.name][1], points=[]))
                continue
            budgets = iters if m.unit == "iteration" else epochs
            rec = run_method(m, ds, args.alpha, budgets, max_seconds, opt["fstar"],
                             repeat=1 if args.quick else args.repeat)
            d["methods"].append(rec)
            last = rec["points"][-1] if rec["points"] else {}
            print(f"  {m.name:26s} {len(rec['points'])} fits, last {last.get('budget')} "
                  f"{m.unit}s {last.get('seconds', float('nan')):.3f} s "
                  f"F={last.get('objective', float('nan')):.10g} {rec.get('error', '')}",
                  flush=True)
        finals = [p["objective"] for r in d["methods"] for p in r.get("points", [])
                  if np.isfinite(p["objective"])]
        d["fstar"] = min([opt["fstar"]] + finals)
        for r in d["methods"]:
            if not r.get("skipped"):
                finish_record(r, d["fstar"], nbytes, meta["bandwidth_gbs"], X.nnz)
        if not args.no_memory:
            for r in d["methods"]:
                if r.get("skipped") or not r["points"]:
                    continue
                r["memory"] = measure_memory(r["method"], name, "float64", args)
            if any(r["method"] == "fastgd-sgd" and not r.get("skipped")
                   for r in d["methods"]):
                d["no_copy"] = [dict(dtype=dt, **measure_memory("fastgd-sgd", name, dt, args))
                                for dt in ("float64", "float32")]
        results[name] = d
        plot(name, d, args.out, command)
        _write(args.out, results, meta, command)
    md = _write(args.out, results, meta, command)
    print("\n" + md)


def _write(out, results, meta, command):
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(dict(command=command, meta=meta, results=results), f, indent=1,
                  default=float)
    md = markdown(results, meta, command)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(md + "\n")
    return md


if __name__ == "__main__":
    main()
