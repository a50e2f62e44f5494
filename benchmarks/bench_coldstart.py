"""Cold start: median seconds of a fresh process's import + first SGDClassifier fit
(2,000 x 20 dense), scikit-learn against fastgd ('auto': warm hand-off) and fastgd on
its Cython kernels, 5 processes each.

    python benchmarks/bench_coldstart.py [python executable]
"""
import subprocess, sys, statistics
code_f = """
import time; t=time.perf_counter()
import numpy as np
from sklearn.datasets import make_classification
X, y = make_classification(2000, 20, random_state=0)
t0=time.perf_counter()
from {mod} import SGDClassifier
SGDClassifier({kw}).fit(X, y)
print(time.perf_counter()-t0)
"""
for label, mod, kw, env in (("sklearn", "sklearn.linear_model", "", {}), ("fastgd", "fastgd", "", {}), ("fastgd-cython", "fastgd", "backend='cython'", {})):
    ts = [float(subprocess.run([(sys.argv[1] if len(sys.argv) > 1 else sys.executable), "-c", code_f.format(mod=mod, kw=kw)], capture_output=True, text=True, check=True).stdout) for _ in range(5)]
    print(label, "import+first fit", f"{statistics.median(ts):.3f}")
