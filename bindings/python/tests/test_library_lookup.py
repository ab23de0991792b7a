"""Where ``import libselectors`` looks for the shared library, and what it says when it finds none.

Each case imports a fresh copy of the package in a child process, with the
system loader's answer controlled by replacing ``ctypes.util.find_library``.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import libselectors

PACKAGE_DIR = os.path.dirname(libselectors.__file__)
REAL_LIBRARY = os.path.abspath(libselectors._library.path)
IMPORT_AND_SHOW_PATH = "import libselectors; print(libselectors._library.path)"
HIDE_SYSTEM_LIBRARY = "import ctypes.util; ctypes.util.find_library = lambda name: None; "
SYSTEM_LOADER_ANSWERS = ("import ctypes.util; ctypes.util.find_library = "
                         "lambda name: 'libselectors.so' if name == 'selectors' else None; ")


class LibraryLookupTest(unittest.TestCase):
    """Lookup order: LIBSELECTORS_PATH, then a copy in the package, then the system loader."""

    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.root)
        self.package = os.path.join(self.root, "libselectors")
        shutil.copytree(PACKAGE_DIR, self.package,
                        ignore=shutil.ignore_patterns("libselectors.so", "libselectors.dylib", "__pycache__"))
        self.package_copy = os.path.join(self.package, "libselectors.so")

    def import_package(self, code, **env_changes):
        """Run ``code`` in a child that imports the temporary package; return the result."""
        env = dict(os.environ, PYTHONPATH=self.root)
        env.pop("LIBSELECTORS_PATH", None)
        env.update(env_changes)
        return subprocess.run([sys.executable, "-c", code], env=env, cwd=self.root,
                              capture_output=True, text=True, timeout=60)

    def test_not_found_raises_import_error_naming_every_candidate(self):
        missing = os.path.join(self.root, "missing", "libselectors.so")
        child = self.import_package(HIDE_SYSTEM_LIBRARY + IMPORT_AND_SHOW_PATH,
                                    LIBSELECTORS_PATH=missing)
        self.assertNotEqual(child.returncode, 0)
        self.assertIn("ImportError", child.stderr)
        self.assertIn(missing, child.stderr)
        self.assertIn(self.package_copy, child.stderr)
        self.assertIn("find_library('selectors')", child.stderr)

    def test_a_library_without_sel_functions_is_refused(self):
        child = self.import_package(HIDE_SYSTEM_LIBRARY + IMPORT_AND_SHOW_PATH,
                                    LIBSELECTORS_PATH="libc.so.6")
        self.assertIn("ImportError", child.stderr)
        self.assertIn("sel_new", child.stderr)

    def test_environment_variable_comes_first(self):
        shutil.copy(REAL_LIBRARY, self.package_copy)
        other = os.path.join(self.root, "elsewhere.so")
        shutil.copy(REAL_LIBRARY, other)
        child = self.import_package(IMPORT_AND_SHOW_PATH, LIBSELECTORS_PATH=other)
        self.assertEqual(child.stdout.strip(), other, child.stderr)

    def test_package_copy_comes_next(self):
        shutil.copy(REAL_LIBRARY, self.package_copy)
        child = self.import_package(HIDE_SYSTEM_LIBRARY + IMPORT_AND_SHOW_PATH)
        self.assertEqual(child.stdout.strip(), self.package_copy, child.stderr)

    def test_system_loader_comes_last(self):
        # find_library answers with a name for dlopen() to resolve; it is stubbed
        # because it only finds libraries that have a SONAME or sit in ldconfig's cache.
        library_dir = os.path.join(self.root, "lib")
        os.mkdir(library_dir)
        shutil.copy(REAL_LIBRARY, os.path.join(library_dir, "libselectors.so"))
        child = self.import_package(SYSTEM_LOADER_ANSWERS + IMPORT_AND_SHOW_PATH,
                                    LD_LIBRARY_PATH=library_dir)
        self.assertEqual(child.stdout.strip(), "libselectors.so", child.stderr)


class ShippedLibraryTest(unittest.TestCase):
    """The wheel carries the stripped library of ``make install``, not cargo's 4.6 MB build."""

    @unittest.skipUnless(sys.platform.startswith("linux"), "the stripped copy is built on Linux")
    @unittest.skipUnless(os.path.dirname(REAL_LIBRARY) == os.path.abspath(PACKAGE_DIR),
                         "the library loaded is not the package's own copy")
    def test_package_copy_is_stripped(self):
        # The limit make package-test holds the installed library to.
        self.assertLessEqual(os.path.getsize(REAL_LIBRARY), 400_000, REAL_LIBRARY)


if __name__ == "__main__":
    unittest.main()
