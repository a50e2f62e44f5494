"""Build of fastgd: the package ``fastgd`` and its kernels ``fastgd.kernels`` (from ./kernels).

The ids of every rule, loss, schedule and penalty are written from fastgd/_rules.py
into kernels/_ids.pxi for the Cython twins, never copied by hand.
"""

import importlib.util
import os
import pathlib
import sys

from setuptools import setup

ROOT = pathlib.Path(__file__).parent


def write_ids_pxi():
    spec = importlib.util.spec_from_file_location("_rules", ROOT / "fastgd" / "_rules.py")
    rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rules)
    target = ROOT / "kernels" / "_ids.pxi"
    text = rules.pxi_source()
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def openmp_flags():
    """Compile and link flags for OpenMP when this compiler supports it, else None.

    ``FASTGD_NO_OPENMP=1`` turns it off. The flags are tried on a tiny program that
    calls ``omp_get_max_threads``; whether they were used is then visible to the
    package as the ``_OPENMP`` macro (``fastgd.kernels._cy_sgd.OPENMP``).
    """
    if os.environ.get("FASTGD_NO_OPENMP", "").lower() in ("1", "true", "yes"):
        return None
    import tempfile

    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.errors import CCompilerError, DistutilsError
    from setuptools._distutils.sysconfig import customize_compiler

    compiler = new_compiler()
    customize_compiler(compiler)
    flag = "/openmp" if compiler.compiler_type == "msvc" else "-fopenmp"
    code = ("#include <omp.h>\n"
            "int main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "omp_test.c")
        with open(src, "w") as f:
            f.write(code)
        try:
            with open(os.devnull, "w") as devnull:
                # keep the probe's compiler chatter out of the build log
                old_err = os.dup(2)
                os.dup2(devnull.fileno(), 2)
                try:
                    objs = compiler.compile([src], output_dir=tmp, extra_postargs=[flag])
                    compiler.link_executable(objs, os.path.join(tmp, "omp_test"),
                                             extra_postargs=[flag])
                finally:
                    os.dup2(old_err, 2)
                    os.close(old_err)
        except (CCompilerError, DistutilsError, OSError):
            return None
    return [flag], ([] if flag == "/openmp" else [flag])


def extensions():
    """Cython twins of the Numba kernels (kernels/_cy_*.pyx), when there are any."""
    sources = sorted((ROOT / "kernels").glob("_cy_*.pyx"))
    if not sources:
        return []
    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension

    write_ids_pxi()
    omp = openmp_flags()
    compile_args, link_args = omp if omp else ([], [])
    if os.name != "nt":
        # no fused multiply-add: the Cython kernels round exactly as the Numba ones
        compile_args = compile_args + ["-ffp-contract=off"]
    print(f"fastgd: building the Cython kernels {'with' if omp else 'without'} OpenMP"
          + (f" ({' '.join(omp[0])})" if omp else
             " (the compiler does not support it, or FASTGD_NO_OPENMP is set)"),
          file=sys.stderr)
    exts = [Extension(f"fastgd.kernels.{src.stem}", [str(src.relative_to(ROOT))],
                      include_dirs=[numpy.get_include()],
                      define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                      extra_compile_args=compile_args, extra_link_args=link_args)
            for src in sources]
    return cythonize(exts, compiler_directives={"language_level": 3, "boundscheck": False,
                                                "wraparound": False, "cdivision": True})


setup(
    packages=["fastgd", "fastgd.kernels"],
    package_dir={"fastgd": "fastgd", "fastgd.kernels": "kernels"},
    package_data={"fastgd": ["data/*.xz", "data/*.bz2"]},
    ext_modules=extensions(),
)
