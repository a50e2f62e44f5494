"""Build of fastgd: the package ``fastgd`` and its kernels ``fastgd.kernels`` (from ./kernels).

The ids of every rule, loss, schedule and penalty are written from fastgd/_rules.py
into kernels/_ids.pxi for the Cython twins, never copied by hand.
"""

import importlib.util
import pathlib

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


def extensions():
    """Cython twins of the Numba kernels (kernels/_cy_*.pyx), when there are any."""
    sources = sorted((ROOT / "kernels").glob("_cy_*.pyx"))
    if not sources:
        return []
    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension

    write_ids_pxi()
    exts = [Extension(f"fastgd.kernels.{src.stem}", [str(src.relative_to(ROOT))],
                      include_dirs=[numpy.get_include()],
                      define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")])
            for src in sources]
    return cythonize(exts, compiler_directives={"language_level": 3, "boundscheck": False,
                                                "wraparound": False, "cdivision": True})


setup(
    packages=["fastgd", "fastgd.kernels"],
    package_dir={"fastgd": "fastgd", "fastgd.kernels": "kernels"},
    package_data={"fastgd": ["data/*.xz", "data/*.bz2"]},
    ext_modules=extensions(),
)
