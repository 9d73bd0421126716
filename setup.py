"""Build reco's compiled kernels (Cython -> C++), ahead of time, into the wheel.

Every ``*.pyx`` under ``src/reco`` becomes an extension module of the same dotted name. The
kernels are serial and release the GIL; reco spreads work over Python threads. Flags: -O3,
-ffp-contract=off (a float sum is the same on every CPU: no fused multiply-add unless
written), and ``RECO_NATIVE=1`` adds ``-march=native`` for a build that only this machine will run.
Popcount-heavy code picks the CPU's instruction at run time (see ``mining/_bits.h``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).parent
SOURCES = sorted((ROOT / "src").rglob("*.pyx"))

if sys.platform == "win32":
    ARGS = ["/O2", "/std:c++17"]
else:
    ARGS = ["-O3", "-g0", "-std=c++17", "-fno-math-errno", "-ffp-contract=off", "-Wno-unreachable-code"]
    if os.environ.get("RECO_NATIVE") == "1":
        ARGS.append("-march=native")


def extension(path: Path) -> Extension:
    relative = path.relative_to(ROOT / "src").with_suffix("")
    return Extension(
        ".".join(relative.parts),
        [str(path.relative_to(ROOT))],
        language="c++",
        extra_compile_args=ARGS,
        include_dirs=[str(path.parent)],
    )


setup(
    ext_modules=cythonize(
        [extension(p) for p in SOURCES],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
        include_path=[str(ROOT / "src")],
        nthreads=os.cpu_count() or 1,
    ),
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
)
