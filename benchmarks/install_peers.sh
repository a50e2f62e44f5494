#!/usr/bin/env bash
# Optional: install the comparison peers of benchmarks/compare.py into the CURRENT Python.
# Never needed by the unit tests. Every peer that fails to install is skipped by
# compare.py with a printed note.
#
#   bash benchmarks/install_peers.sh            # all peers
#   SKIP_LIGHTNING=1 bash benchmarks/install_peers.sh
#
# Traps (see ../shared/PEERS.md):
# * tick: every fit fails ("no settable attribute 'dtype'") unless numpydoc is installed.
# * sklearn-contrib-lightning 0.6.2.post0 has no wheel; its sdist needs numpy.distutils and
#   setuptools<65: the wheel is built in a throw-away venv (--system-site-packages, so it
#   builds against this NumPy), then installed here. About 1.5-3 minutes.
set -euo pipefail
PY=${PYTHON:-python}
cd "$(dirname "$0")/.."
$PY -m pip install -e ".[bench]"
$PY -m pip install vowpalwabbit copt tick numpydoc || echo "note: some peers failed to install"
if [ "${SKIP_LIGHTNING:-0}" != "1" ]; then
  WORK=$(mktemp -d)
  if $PY -m venv --system-site-packages "$WORK/venv" \
     && "$WORK/venv/bin/pip" install "setuptools<65" wheel \
     && (cd "$WORK" && "$WORK/venv/bin/pip" wheel --no-build-isolation --no-deps \
            sklearn-contrib-lightning==0.6.2.post0 -w "$WORK/wheels"); then
    $PY -m pip install "$WORK"/wheels/sklearn_contrib_lightning-*.whl
  else
    echo "note: lightning did not build (needs numpy.distutils: NumPy on Python <= 3.11)"
  fi
  rm -rf "$WORK"
fi
$PY - <<'PY'
for mod in ("lightning.classification", "tick.solver", "numpydoc", "copt", "vowpalwabbit",
            "matplotlib"):
    try:
        __import__(mod)
        print(f"ok       {mod}")
    except Exception as exc:
        print(f"missing  {mod}: {exc}")
PY
