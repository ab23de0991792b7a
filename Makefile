# libselectors: the two commands of the README, and what they are made of.
#
#   make demo    build libselectors.so and run the echo server (try: nc localhost 12345)
#   make test    every test (about 22 minutes on 2 cores, tools installed): `make check`,
#                then the tests again on KQUEUE (when libkqueue is installed), the ABI check,
#                the C tests under valgrind and the sanitizers and as a BSD builds them, the
#                install as a user would use it (default and lean), the Debian packages, the
#                Python binding against CPython's own test suite, the benchmarks' smoke run, the
#                soak, the differential fuzzer, Miri, and the type check of the macOS, BSD,
#                illumos and Solaris builds (ci/cross-check); the `test:` line gives the order
#   make check   the quick part: lint, then the Rust and C tests and the echo load test
#
# Everything else (install, packaging, the full benchmarks) lives in its own targets below.
#
# A fresh Debian machine needs only make and rustup's cargo: each target that needs a Debian
# package asks tools/require for it (installed when root, else one line saying what to run),
# and rustup adds the components and toolchains a target lacks (rustfmt, clippy, nightly, Miri).

CARGO ?= cargo
CC ?= cc
PORT ?= 12345
# cargo's output folder: CARGO_TARGET_DIR when set (cargo reads it too), else cargo's default.
RELEASE_DIR := $(or $(CARGO_TARGET_DIR),target)/release
# Every cargo build compiles the C tests and examples (build.rs), one of them also as C++.
C_TOOLCHAIN := gcc g++ libc6-dev
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite

.PHONY: all demo test check test-rust test-valgrind lint library library-lean stripped install \
	install-debug uninstall man cross-check package-test package-test-lean deb-test abi-check \
	abi-baseline test-python test-python-asan bench-smoke bench bench-wrapper python-tools

all: library

library:
	@tools/require "make library" $(C_TOOLCHAIN)
	$(CARGO) build --release

$(RELEASE_DIR)/echo_server: examples/echo_server.c include/selectors.h library
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Iinclude -o $@ examples/echo_server.c \
		-L$(RELEASE_DIR) -lselectors -Wl,-rpath,$(abspath $(RELEASE_DIR))

demo: $(RELEASE_DIR)/echo_server
	$(RELEASE_DIR)/echo_server $(PORT)

test: check test-kqueue abi-check test-valgrind sanitize c-tests-posix package-test \
	package-test-lean deb-test test-python bench-smoke soak fuzz miri cross-check

check: lint test-rust

lint:
	@tools/require "make lint" $(C_TOOLCHAIN)
	@$(CARGO) fmt --version >/dev/null 2>&1 && $(CARGO) clippy --version >/dev/null 2>&1 || \
		rustup component add rustfmt clippy 2>/dev/null || \
		{ echo "make lint needs rustfmt and clippy: rustup component add rustfmt clippy"; exit 1; }
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# binutils: tests/exports.rs reads the exported symbols with nm.
test-rust:
	@tools/require "make test-rust" $(C_TOOLCHAIN) binutils
	$(CARGO) test

# ---- KQUEUE on Linux, through libkqueue (README, "KQUEUE on Linux") ------------------------

# The build with KQUEUE (--features libkqueue, in a target folder of its own so the two builds
# do not overwrite each other's libselectors.so): clippy, the unit tests and every per-kind C
# case on each kind, KQUEUE included, the header unchanged, and the echo load test on KQUEUE.
# Prints how many C cases passed on each kind. Without libkqueue installed, one line says it
# was skipped and why.
KQUEUE_TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))/libkqueue
# "yes" when libkqueue is installed: the one probe test-kqueue, fuzz and c-tests-posix share.
HAVE_LIBKQUEUE := $(shell pkg-config --exists libkqueue 2>/dev/null && echo yes)
NO_LIBKQUEUE := libkqueue is not installed (`pkg-config --exists libkqueue` fails)

.PHONY: test-kqueue
test-kqueue:
	@if [ -z "$(HAVE_LIBKQUEUE)" ]; then \
		echo 'test-kqueue: SKIPPED: $(NO_LIBKQUEUE); README, "KQUEUE on Linux", says how to install it'; \
		exit 0; \
	fi; \
	set -e; export CARGO_TARGET_DIR=$(KQUEUE_TARGET_DIR); \
	echo "test-kqueue: libkqueue $$(pkg-config --modversion libkqueue) in $$(pkg-config --variable=libdir libkqueue)"; \
	$(CARGO) clippy --all-targets --features libkqueue -- -D warnings; \
	$(CARGO) test --features libkqueue --lib --test header --test echo; \
	mkdir -p $(KQUEUE_TARGET_DIR); \
	$(CARGO) test --features libkqueue --test c_api -- --nocapture > $(KQUEUE_TARGET_DIR)/c_api.log 2>&1 || \
		{ cat $(KQUEUE_TARGET_DIR)/c_api.log; exit 1; }; \
	grep 'test result' $(KQUEUE_TARGET_DIR)/c_api.log; \
	for kind in Select Poll Epoll Kqueue; do \
		printf 'test-kqueue: %s C case runs passed on %sSelector\n' \
			"$$(grep -c "^ok .* \[$${kind}Selector\]$$" $(KQUEUE_TARGET_DIR)/c_api.log)" "$$kind"; \
	done

# The type check and clippy for macOS, the BSDs, illumos and Solaris (kqueue, /dev/poll): each
# target against its own libc definitions, with Debian's rustc-web (installed when missing).
cross-check:
	ci/cross-check

# The C tests again, each case under valgrind memcheck: no error, nothing definitely lost.
test-valgrind:
	@tools/require "make test-valgrind" $(C_TOOLCHAIN) valgrind
	SELECTORS_TEST_WRAPPER="$(VALGRIND)" $(CARGO) test --test c_api

# The Python binding as users get it: `pip wheel` builds the library (stripped, as `make install`
# installs it) and the extension into a wheel, which is installed into a fresh virtual
# environment (no LIBSELECTORS_PATH, no PYTHONPATH); then CPython's own test_selectors.py and
# asyncio's functional tests run against it and the standard module, side by side, and the
# binding's own tests under -X dev (~5 min).
# Building the wheel fetches setuptools from PyPI; Debian ships venv, pip, Python's headers and
# CPython's test package apart (python-tools).
PYTHON_WORK = $(abspath $(or $(CARGO_TARGET_DIR),target))/python-test
test-python: library python-tools
	rm -rf $(PYTHON_WORK) bindings/python/build
	python3 -m venv $(PYTHON_WORK)/venv
	python3 -m pip wheel --quiet --no-deps --wheel-dir $(PYTHON_WORK)/wheel ./bindings/python
	$(PYTHON_WORK)/venv/bin/pip install --quiet --no-index $(PYTHON_WORK)/wheel/libselectors-*.whl
	env -u LIBSELECTORS_PATH -u PYTHONPATH $(PYTHON_WORK)/venv/bin/python bindings/python/run_tests.py

# What both Python test targets need from Debian: the interpreter, venv, pip, setuptools and
# Python's headers for the extension, and CPython's test package (asked for only when this
# python3 lacks it, as a pyenv or self-built one does not).
python-tools:
	@tools/require "the Python tests" python3 python3-venv python3-pip python3-setuptools python3-dev
	@python3 -c 'import test.test_selectors' 2>/dev/null || tools/require "the Python tests" \
		libpython$$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')-testsuite

# By hand, not part of `make test` (about 10 minutes): the same suites on the extension built
# with AddressSanitizer. The interpreter is not instrumented, so libasan is preloaded and every
# Python allocation goes through malloc (PYTHONMALLOC=malloc), where ASan sees it; a use after
# free or an overflow anywhere in the process aborts the suite with ASan's report.
PYTHON_ASAN = $(abspath $(or $(CARGO_TARGET_DIR),target))/python-asan
test-python-asan: library python-tools
	rm -rf $(PYTHON_ASAN)
	cd bindings/python && CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g" \
		LDFLAGS="-fsanitize=address" python3 setup.py -q build --build-base $(PYTHON_ASAN)/build \
		--build-lib $(PYTHON_ASAN)/lib
	LD_PRELOAD=$$($(CC) -print-file-name=libasan.so) PYTHONMALLOC=malloc \
		ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 PYTHONPATH=$(PYTHON_ASAN)/lib \
		python3 bindings/python/run_tests.py

# The benchmarks at tiny sizes (seconds): every peer builds and runs, no byte is lost.
bench-smoke:
	benches/run --smoke

# What selectors.hpp costs over the C calls: one select-and-dispatch loop in C and through the
# wrapper, -O2, instructions counted by callgrind (BENCHMARKS.md, "C++ wrapper"; ~15 s).
bench-wrapper:
	benches/wrapper_overhead

# The full benchmark run of BENCHMARKS.md (about 6 minutes): the table, the plot, the targets.
bench:
	benches/run

# ---- Installing ---------------------------------------------------------------------------

# Where `make install` puts things (GNU conventions); DESTDIR stages the tree for a package.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR ?= $(LIBDIR)/cmake/selectors

# Cargo.toml's version names the files: 0.1.0 installs libselectors.so.0.1.0, whose soname
# (set by build.rs) is libselectors.so.0.
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml)
MAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME := libselectors.so.$(MAJOR)
MAN_PAGES := $(wildcard man/*.3)

# The installed library is stripped (350 KB instead of the build's 4.6 MB); its debug info goes
# to a separate file that the stripped copy names in its .gnu_debuglink, so gdb and valgrind find
# it in $(LIBDIR)/.debug/ once `make install-debug` put it there. The static library loses its
# debug sections (22 MB to 13 MB). INSTALL_STRIPPED=no installs both unstripped, for a packager
# whose own tools split the debug info (debian/rules: dh_strip makes the -dbgsym package).
INSTALL_STRIPPED ?= yes
# LEAN_STD=yes installs a library of 113 KB instead: see library-lean.
LEAN_STD ?= no
BUILD_TARGET := $(if $(filter yes,$(LEAN_STD)),library-lean,library)
LEAN_TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))/lean
DEBIAN_RUSTC := /usr/bin/rustc
# Recursively expanded: /usr/bin/rustc may only exist once library-lean has installed it.
BUILT_DIR = $(if $(filter yes,$(LEAN_STD)),$(LEAN_TARGET_DIR)/$(shell $(DEBIAN_RUSTC) -vV | \
	sed -n 's/^host: //p')/release,$(RELEASE_DIR))
STRIPPED_DIR = $(BUILT_DIR)/stripped
DEBUG_FILE := libselectors.so.$(VERSION).debug
INSTALLED_FROM = $(if $(filter yes,$(INSTALL_STRIPPED)),$(STRIPPED_DIR),$(BUILT_DIR))

# Every file `make install` writes, and so every file `make uninstall` removes.
INSTALLED := $(LIBDIR)/libselectors.so.$(VERSION) $(LIBDIR)/$(SONAME) $(LIBDIR)/libselectors.so \
	$(LIBDIR)/libselectors.a $(INCLUDEDIR)/selectors.h $(INCLUDEDIR)/selectors.hpp \
	$(PKGCONFIGDIR)/selectors.pc \
	$(CMAKEDIR)/selectorsConfig.cmake $(CMAKEDIR)/selectorsConfigVersion.cmake \
	$(addprefix $(MANDIR)/man3/,$(notdir $(MAN_PAGES)))
DEBUG_INSTALLED := $(LIBDIR)/.debug/$(DEBUG_FILE)
# Fills in the @...@ fields of the pkg-config and CMake templates.
SUBSTITUTE := sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@MAJOR@|$(MAJOR)|' \
	-e 's|@SONAME@|$(SONAME)|' -e "s|@SIZEOF_VOID_P@|$$(($$(getconf LONG_BIT) / 8))|"

# The release build with a Rust standard library rebuilt without its backtrace symbolizer
# (gimli, addr2line, miniz_oxide, rustc-demangle: 170 KB of the 350). Rust's default panic hook
# keeps it reachable to print symbolized backtraces when RUST_BACKTRACE is set, which a
# stripped library cannot give anyway. Panics still unwind, so every function still returns
# -ENOTRECOVERABLE for a bug of ours; callgrind counts the same instructions per round. The
# price: -Zbuild-std is unstable, so this takes Debian's rustc-web with its std sources
# (rust-web-src, the same version) and RUSTC_BOOTSTRAP=1, like ci/cross-check; the first build
# compiles std (a few minutes), in target/lean.
library-lean:
	@tools/require "make library-lean" rustc-web rust-web-src $(C_TOOLCHAIN)
	RUSTC=$(DEBIAN_RUSTC) RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$(LEAN_TARGET_DIR) $(CARGO) build \
		--release --target "$$($(DEBIAN_RUSTC) -vV | sed -n 's/^host: //p')" \
		-Zbuild-std=std,panic_unwind -Zbuild-std-features=panic-unwind,backtrace-trace-only

# The stripped libraries and the debug file, from the release build (binutils' objcopy, strip).
stripped: $(BUILD_TARGET)
	@tools/require "make stripped" binutils
	mkdir -p $(STRIPPED_DIR)
	objcopy --only-keep-debug --compress-debug-sections $(BUILT_DIR)/libselectors.so \
		$(STRIPPED_DIR)/$(DEBUG_FILE)
	objcopy --strip-unneeded --remove-section=.comment \
		--add-gnu-debuglink=$(STRIPPED_DIR)/$(DEBUG_FILE) $(BUILT_DIR)/libselectors.so \
		$(STRIPPED_DIR)/libselectors.so
	strip --strip-debug -o $(STRIPPED_DIR)/libselectors.a $(BUILT_DIR)/libselectors.a

# The shared and static library with the soname and dev symlinks, the header and its C++17
# wrapper, the pkg-config and CMake files and the manual, under $(DESTDIR)$(PREFIX). No root
# needed for a prefix you own.
install: $(if $(filter yes,$(INSTALL_STRIPPED)),stripped,$(BUILD_TARGET))
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 644 $(INSTALLED_FROM)/libselectors.so $(DESTDIR)$(LIBDIR)/libselectors.so.$(VERSION)
	ln -sf libselectors.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libselectors.so
	install -m 644 $(INSTALLED_FROM)/libselectors.a $(DESTDIR)$(LIBDIR)/libselectors.a
	install -m 644 include/selectors.h $(DESTDIR)$(INCLUDEDIR)/selectors.h
	install -m 644 include/selectors.hpp $(DESTDIR)$(INCLUDEDIR)/selectors.hpp
	$(SUBSTITUTE) selectors.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/selectors.pc
	for file in selectorsConfig selectorsConfigVersion; do \
		$(SUBSTITUTE) packaging/$$file.cmake.in > $(DESTDIR)$(CMAKEDIR)/$$file.cmake || exit 1; \
	done
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man3

# The debug info of the installed library, where gdb looks for the file its debuglink names.
install-debug: stripped
	install -d $(DESTDIR)$(LIBDIR)/.debug
	install -m 644 $(STRIPPED_DIR)/$(DEBUG_FILE) $(DESTDIR)$(DEBUG_INSTALLED)

# Removes exactly what `make install` and `make install-debug` wrote (give it the same PREFIX
# and DESTDIR); folders stay.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED) $(DEBUG_INSTALLED))

# Lints the manual: mandoc -T lint must report nothing at any level, style included, except
# "referenced manual not found", which depends on the manuals this machine has (kqueue(2) is
# not on Linux, ours are not installed yet); so each of our own cross-references is checked
# here instead. (Lint messages go to stdout; stderr only has notes on the system's mandoc.db.)
man:
	@tools/require "make man" mandoc
	@out=$$(mandoc -T lint $(MAN_PAGES) 2>/dev/null | grep -v 'referenced manual not found'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	@for page in $$(grep -ho 'Xr sel[a-z_]* 3' $(MAN_PAGES) | cut -d' ' -f2 | sort -u); do \
		[ -f man/$$page.3 ] || { echo "no man/$$page.3 for .Xr $$page 3"; exit 1; }; done

# Installs into a temporary prefix and builds against it as users do (pkg-config from C and
# C++, CMake, static linking, examples/Makefile), runs the programs on the installed library,
# then uninstalls.
# The script runs make itself; MAKE reaches it exported, not named in the recipe, where it
# would make `make -n` run the recipe.
package-test: export MAKE := $(MAKE)
package-test: man library
	@tools/require "make package-test" pkg-config cmake binutils
	packaging/package-test.sh

# package-test again on the LEAN_STD=yes install (see library-lean), which must stay under 200 KB.
package-test-lean:
	$(MAKE) package-test LEAN_STD=yes

# The Debian packages (README, "Debian packages"): built from a clean copy of HEAD with
# dpkg-buildpackage, checked by lintian, installed, used by outside programs, purged.
deb-test:
	packaging/deb-test.sh

# The ABI guard (README, "ABI"): the public ABI of the built library against the committed
# baseline of its soname, packaging/abi/; fails with abidiff's report on a backward-incompatible
# change. abi-baseline rewrites the baseline, for a new soname.
abi-check:
	packaging/abi.sh check

abi-baseline:
	packaging/abi.sh baseline

# ---- Reliability: fuzzing, sanitizers, Miri, soak ------------------------------------------
# (README, "Reliability"). Each target installs what it needs that a fresh machine lacks.

FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 60
SOAK_OTHER_SECONDS ?= 20
# Scratch space: what a fuzz run adds to the corpus, and the sanitizer builds. Never the tree.
WORK_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))/reliability
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g
C_TEST_PROGRAMS := $(basename $(notdir $(wildcard c_tests/*.c)))
# panics.c arms the test hook that only debug builds have (src/fault.rs); the release library
# these programs link must not carry it, which `sanitize` checks.
SANITIZED_PROGRAMS := $(filter-out panics,$(C_TEST_PROGRAMS))
CXX_TEST_PROGRAMS := $(basename $(notdir $(wildcard cxx_tests/*.cpp)))
SANITIZE_SUPPORT := $(patsubst c_tests/support/%.c,$(WORK_DIR)/sanitize/%.o,$(wildcard c_tests/support/*.c))

.PHONY: fuzz fuzz-test fuzz-seeds fuzz-tools sanitize c-tests-posix miri soak

# libfuzzer-sys compiles libFuzzer, which is C++.
fuzz-tools:
	@tools/require "make fuzz" $(C_TOOLCHAIN)
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz

# KQUEUE joins SELECT, POLL and EPOLL in the fuzzer when libkqueue is installed (the `libkqueue`
# feature; README, "KQUEUE on Linux"); without it the fuzzer runs on the three and says so.
FUZZ_FEATURES := $(if $(HAVE_LIBKQUEUE),--features libkqueue)
FUZZ_KQUEUE_NOTE := @[ -n "$(FUZZ_FEATURES)" ] || echo 'KQUEUE skipped by the fuzzer: $(NO_LIBKQUEUE)'

# The differential fuzzer for FUZZ_SECONDS, starting from the committed seeds; fails on any
# divergence from the model, crash or leak (the input is saved under fuzz/artifacts/), except
# libkqueue's own leak of fds closed behind its back (fuzz/libkqueue.lsan).
fuzz: fuzz-tools
	$(FUZZ_KQUEUE_NOTE)
	mkdir -p $(WORK_DIR)/fuzz-corpus
	cd fuzz && LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/libkqueue.lsan $(CARGO) +nightly fuzz run $(FUZZ_FEATURES) differential $(WORK_DIR)/fuzz-corpus \
		corpus/differential -- -max_total_time=$(FUZZ_SECONDS) -max_len=384 -timeout=10 \
		-print_final_stats=1

# The fuzzer's model on the hand-written scenarios (seeds, and the bug it found), no libFuzzer.
fuzz-test: fuzz-tools
	$(FUZZ_KQUEUE_NOTE)
	cd fuzz && $(CARGO) +nightly test $(FUZZ_FEATURES)

# Rewrites fuzz/corpus/differential from fuzz/src/scenarios.rs.
fuzz-seeds: fuzz-tools
	cd fuzz && $(CARGO) +nightly run --bin write_seeds

# The C tests, and the C++ tests of selectors.hpp, built with AddressSanitizer and
# UndefinedBehaviorSanitizer against the release libselectors.so, each case in its own process.
sanitize: library
	! nm -D --defined-only $(RELEASE_DIR)/libselectors.so | grep sel_debug_
	mkdir -p $(WORK_DIR)/sanitize
	for program in $(SANITIZED_PROGRAMS); do \
		$(CC) -std=c99 $(SANITIZE_FLAGS) -Iinclude -Ic_tests/support -o $(WORK_DIR)/sanitize/$$program \
			c_tests/$$program.c c_tests/support/*.c -L$(RELEASE_DIR) -lselectors -lpthread -lm \
			-Wl,-rpath,$(abspath $(RELEASE_DIR)) || exit 1; \
	done
	for support in c_tests/support/*.c; do \
		$(CC) -std=c99 $(SANITIZE_FLAGS) -Iinclude -c -o $(WORK_DIR)/sanitize/$$(basename $$support .c).o \
			$$support || exit 1; \
	done
	for program in $(CXX_TEST_PROGRAMS); do \
		$(CXX) -std=c++17 $(SANITIZE_FLAGS) -Iinclude -Ic_tests/support -o $(WORK_DIR)/sanitize/$$program \
			cxx_tests/$$program.cpp $(SANITIZE_SUPPORT) \
			-L$(RELEASE_DIR) -lselectors -lpthread -lm -Wl,-rpath,$(abspath $(RELEASE_DIR)) || exit 1; \
	done
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		tools/run_c_cases.sh $(addprefix $(WORK_DIR)/sanitize/,$(SANITIZED_PROGRAMS) $(CXX_TEST_PROGRAMS))

# The C tests as macOS and the BSDs build them, checked here: compiled with POSIX headers alone
# and the Linux-only cases turned off, then run against the release libselectors.so, where those
# cases count as skipped (tools/c_tests_posix.sh). With libkqueue installed, again against the
# release build with KQUEUE: the portable cases on KQUEUE, the nearest this machine has to a BSD.
c-tests-posix: library
	tools/c_tests_posix.sh $(WORK_DIR)/posix $(RELEASE_DIR)
	@if [ -z "$(HAVE_LIBKQUEUE)" ]; then \
		echo 'c-tests-posix: KQUEUE SKIPPED: $(NO_LIBKQUEUE)'; \
		exit 0; \
	fi; \
	set -e; CARGO_TARGET_DIR=$(KQUEUE_TARGET_DIR) $(CARGO) build --release --features libkqueue; \
	tools/c_tests_posix.sh $(WORK_DIR)/posix-kqueue $(KQUEUE_TARGET_DIR)/release -DSEL_TEST_LIBKQUEUE

# The unit tests of every module that makes no system call, named one by one (a module path
# matches its tests and nothing else): the core's registry, reporting path, event bits,
# deadlines, kinds, errno, growth, version and panic injection, and the backends' pure logic
# (kqueue and /dev/poll change lists, the /dev/poll ABI, generations, epoll's tags, poll's array,
# select's sets and timevals); kind's test that opens every kind's kernel object is skipped. A
# new module without system calls joins this list. Permissive provenance: the tests make `data`
# pointers from integers, as C callers may.
MIRI_TESTS := registry:: report:: events:: deadline:: kind:: errno:: growth:: version:: fault:: \
	backend::kqueue_changes:: backend::devpoll_changes:: backend::devpoll_sys:: \
	backend::generation:: backend::epoll::tests::tags_round_trip backend::poll:: backend::select:: \
	--skip kind::tests::the_built_kinds_are_the_ones_that_open
miri:
	@tools/require "make miri" $(C_TOOLCHAIN)
	@rustup +nightly component list --installed | grep -q '^miri' || \
		rustup +nightly component add miri rust-src
	MIRIFLAGS=-Zmiri-permissive-provenance $(CARGO) +nightly miri test --lib -- $(MIRI_TESTS)

# The echo server under 1,000 churning connections (tests/soak.rs): SOAK_SECONDS on the default
# kind (EPOLL), then SOAK_OTHER_SECONDS on POLL and, with libkqueue installed, on KQUEUE (the
# release build with the libkqueue feature, in its own target folder as test-kqueue's). SELECT
# cannot hold 1,000 connections: its fds stop at FD_SETSIZE.
soak:
	@tools/require "make soak" $(C_TOOLCHAIN)
	SOAK_SECONDS=$(SOAK_SECONDS) $(CARGO) test --release --test soak -- --nocapture
	SOAK_KIND=poll SOAK_SECONDS=$(SOAK_OTHER_SECONDS) $(CARGO) test --release --test soak -- --nocapture
	@if [ -z "$(HAVE_LIBKQUEUE)" ]; then echo 'soak: KQUEUE SKIPPED: $(NO_LIBKQUEUE)'; exit 0; fi; \
	set -x; SOAK_KIND=kqueue SOAK_SECONDS=$(SOAK_OTHER_SECONDS) CARGO_TARGET_DIR=$(KQUEUE_TARGET_DIR) \
		$(CARGO) test --release --features libkqueue --test soak -- --nocapture
