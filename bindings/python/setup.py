"""Builds the wheel: the Rust library with cargo, then the C extension against its header.

``pip install ./bindings/python`` (or ``pip wheel``) runs this from the repository
checkout: ``build_ext`` first builds the library at the repository's root and
puts it into the package, where ``_library.py`` finds it at import; then
setuptools compiles ``_selectors.c`` with ``include/selectors.h``.  On Linux the
library is the stripped one ``make install`` installs (``make stripped``: 350 KB
instead of the 4.6 MB of cargo's output, which keeps its debug info); elsewhere
cargo's own, as the Makefile's objcopy step is Linux-only.  The extension makes
the wheel a platform wheel (``cp311-cp311-linux_x86_64`` on this machine).
"""

import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.normpath(os.path.join(HERE, "..", ".."))
LIBRARY_NAME = "libselectors.dylib" if sys.platform == "darwin" else "libselectors.so"


def cargo_target_dir():
    """Where cargo puts its output: CARGO_TARGET_DIR (relative to the repository) or target/."""
    return os.path.join(REPOSITORY, os.environ.get("CARGO_TARGET_DIR") or "target")


def build_library():
    """Build the release library and return the path of the copy the wheel ships."""
    release = os.path.join(cargo_target_dir(), "release")
    if sys.platform.startswith("linux"):
        # LEAN_STD=no: the Makefile's default build, whatever the caller's environment says.
        subprocess.run([os.environ.get("MAKE", "make"), "stripped", "LEAN_STD=no"],
                       cwd=REPOSITORY, check=True)
        return os.path.join(release, "stripped", LIBRARY_NAME)
    subprocess.run([os.environ.get("CARGO", "cargo"), "build", "--release"],
                   cwd=REPOSITORY, check=True)
    return os.path.join(release, LIBRARY_NAME)


class BuildWithLibrary(build_ext):
    """build_ext that first builds libselectors with cargo and ships it inside the package."""

    def run(self):
        if not os.path.exists(os.path.join(REPOSITORY, "Cargo.toml")):
            raise SystemExit(
                f"libselectors: {REPOSITORY} is not the libselectors repository; build the wheel"
                " from a checkout (pip install ./bindings/python), not from an sdist")
        built = build_library()
        super().run()
        package_dir = os.path.join(self.build_lib, "libselectors")
        self.mkpath(package_dir)
        self.copy_file(built, os.path.join(package_dir, LIBRARY_NAME))
        if self.inplace:
            self.copy_file(built, os.path.join(HERE, "libselectors", LIBRARY_NAME))

    def get_outputs(self):
        return super().get_outputs() + [
            os.path.join(self.build_lib, "libselectors", LIBRARY_NAME)]


setup(
    ext_modules=[
        Extension(
            "libselectors._selectors",
            sources=["libselectors/_selectors.c"],
            include_dirs=[os.path.join(REPOSITORY, "include")],
            libraries=["dl"],
            extra_compile_args=["-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers"],
        )
    ],
    cmdclass={"build_ext": BuildWithLibrary},
)
