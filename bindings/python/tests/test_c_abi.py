"""The ctypes declarations agree with the generated C header, include/selectors.h.

A tiny C program compiled against the header prints the constants and the
struct layout that the binding hard-codes; skipped where there is no header
(an installed package) or no C compiler.
"""

import ctypes
import os
import shutil
import subprocess
import tempfile
import unittest

from libselectors import _library

HEADER_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "include"))
CONSTANTS = ["SEL_EVENT_READ", "SEL_EVENT_WRITE", "SEL_FLAG_EINTR", "SEL_KIND_DEFAULT",
             "SEL_KIND_SELECT", "SEL_KIND_POLL", "SEL_KIND_EPOLL", "SEL_KIND_KQUEUE",
             "SEL_KIND_DEVPOLL"]
LAYOUT = {
    "sizeof(sel_key)": ctypes.sizeof(_library.SelKey),
    "offsetof(sel_key, fd)": _library.SelKey.fd.offset,
    "offsetof(sel_key, events)": _library.SelKey.events.offset,
    "offsetof(sel_key, data)": _library.SelKey.data.offset,
    "sizeof(sel_event)": ctypes.sizeof(_library.SelEvent),
    "offsetof(sel_event, key)": _library.SelEvent.key.offset,
    "offsetof(sel_event, mask)": _library.SelEvent.mask.offset,
}


@unittest.skipUnless(os.path.exists(os.path.join(HEADER_DIR, "selectors.h")), "no selectors.h")
@unittest.skipUnless(shutil.which("cc"), "no C compiler")
class CAbiTest(unittest.TestCase):
    """Compile a program that prints what the header says, and compare."""

    def header_values(self, expressions):
        """{C expression: its value as the compiler sees it with selectors.h}."""
        lines = "".join(f'    printf("%llu\\n", (unsigned long long)({e}));\n' for e in expressions)
        source = ("#include <stddef.h>\n#include <stdio.h>\n#include <selectors.h>\n"
                  f"int main(void) {{\n{lines}    return 0;\n}}\n")
        with tempfile.TemporaryDirectory() as work:
            program = os.path.join(work, "abi")
            with open(program + ".c", "w") as f:
                f.write(source)
            subprocess.run(["cc", "-std=c99", "-I", HEADER_DIR, "-o", program, program + ".c"],
                           check=True, capture_output=True)
            output = subprocess.run([program], check=True, capture_output=True, text=True).stdout
        return dict(zip(expressions, map(int, output.split())))

    def test_constants(self):
        expected = {name: getattr(_library, name) for name in CONSTANTS}
        self.assertEqual(self.header_values(CONSTANTS), expected)

    def test_struct_layout(self):
        self.assertEqual(self.header_values(list(LAYOUT)), LAYOUT)


if __name__ == "__main__":
    unittest.main()
