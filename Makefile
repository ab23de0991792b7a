# libselectors: the two commands of the README, and what they are made of.
#
#   make demo    build libselectors.so and run the echo server (try: nc localhost 12345)
#   make test    every test: lint, Rust and C tests, the C tests under valgrind, the echo load
#                test, and the install tested as a user would use it (package-test)
#
# Everything else (install, packaging) lives in its own targets below.

CARGO ?= cargo
CC ?= cc
PORT ?= 12345
# cargo's output folder: CARGO_TARGET_DIR when set (cargo reads it too), else cargo's default.
RELEASE_DIR := $(or $(CARGO_TARGET_DIR),target)/release
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite

.PHONY: all demo test test-rust test-valgrind lint library install uninstall man package-test \
	bench-smoke bench

all: library

library:
	$(CARGO) build --release

$(RELEASE_DIR)/echo_server: examples/echo_server.c include/selectors.h library
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Iinclude -o $@ examples/echo_server.c \
		-L$(RELEASE_DIR) -lselectors -Wl,-rpath,$(abspath $(RELEASE_DIR))

demo: $(RELEASE_DIR)/echo_server
	$(RELEASE_DIR)/echo_server $(PORT)

test: lint test-rust test-valgrind package-test bench-smoke

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

test-rust:
	$(CARGO) test

# The C tests again, each case under valgrind memcheck: no error, nothing definitely lost.
test-valgrind:
	SELECTORS_TEST_WRAPPER="$(VALGRIND)" $(CARGO) test --test c_api

# The benchmarks at tiny sizes (seconds): every peer builds and runs, no byte is lost.
bench-smoke:
	benches/run --smoke

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

# Cargo.toml's version names the files: 0.1.0 installs libselectors.so.0.1.0, whose soname
# (set by build.rs) is libselectors.so.0.
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml)
SONAME := libselectors.so.$(firstword $(subst ., ,$(VERSION)))
MAN_PAGES := $(wildcard man/*.3)

# Every file `make install` writes, and so every file `make uninstall` removes.
INSTALLED := $(LIBDIR)/libselectors.so.$(VERSION) $(LIBDIR)/$(SONAME) $(LIBDIR)/libselectors.so \
	$(LIBDIR)/libselectors.a $(INCLUDEDIR)/selectors.h $(PKGCONFIGDIR)/selectors.pc \
	$(addprefix $(MANDIR)/man3/,$(notdir $(MAN_PAGES)))

# The shared and static library with the soname and dev symlinks, the header, the pkg-config
# file and the manual, under $(DESTDIR)$(PREFIX). No root needed for a prefix you own.
install: library
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man3
	install -m 755 $(RELEASE_DIR)/libselectors.so $(DESTDIR)$(LIBDIR)/libselectors.so.$(VERSION)
	ln -sf libselectors.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libselectors.so
	install -m 644 $(RELEASE_DIR)/libselectors.a $(DESTDIR)$(LIBDIR)/libselectors.a
	install -m 644 include/selectors.h $(DESTDIR)$(INCLUDEDIR)/selectors.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' selectors.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/selectors.pc
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man3

# Removes exactly what `make install` wrote (give it the same PREFIX and DESTDIR); folders stay.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# Lints the manual: mandoc -T lint must report nothing at any level, style included, except
# "referenced manual not found", which depends on the manuals this machine has (kqueue(2) is
# not on Linux, ours are not installed yet); so each of our own cross-references is checked
# here instead. (Lint messages go to stdout; stderr only has notes on the system's mandoc.db.)
man:
	@command -v mandoc >/dev/null || { echo "make man needs mandoc (apt-get install mandoc)"; exit 1; }
	@out=$$(mandoc -T lint $(MAN_PAGES) 2>/dev/null | grep -v 'referenced manual not found'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	@for page in $$(grep -ho 'Xr sel[a-z_]* 3' $(MAN_PAGES) | cut -d' ' -f2 | sort -u); do \
		[ -f man/$$page.3 ] || { echo "no man/$$page.3 for .Xr $$page 3"; exit 1; }; done

# Installs into a temporary prefix and builds against it as users do (pkg-config from C and
# C++, CMake, static linking, examples/Makefile), runs the programs on the installed library,
# then uninstalls. Needs pkg-config, cmake, mandoc and binutils.
package-test: man library
	MAKE="$(MAKE)" packaging/package-test.sh
