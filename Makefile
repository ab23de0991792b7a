# libselectors: the two commands of the README, and what they are made of.
#
#   make demo    build libselectors.so and run the echo server (try: nc localhost 12345)
#   make test    every test: Rust and C tests, the C tests under valgrind, the echo load test
#
# Everything else (install, packaging) lives in its own targets below.

CARGO ?= cargo
CC ?= cc
PORT ?= 12345
RELEASE_DIR := target/release
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite

.PHONY: all demo test test-rust test-valgrind lint library

all: library

library:
	$(CARGO) build --release

$(RELEASE_DIR)/echo_server: examples/echo_server.c include/selectors.h library
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Iinclude -o $@ examples/echo_server.c \
		-L$(RELEASE_DIR) -lselectors -Wl,-rpath,$(CURDIR)/$(RELEASE_DIR)

demo: $(RELEASE_DIR)/echo_server
	$(RELEASE_DIR)/echo_server $(PORT)

test: lint test-rust test-valgrind

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

test-rust:
	$(CARGO) test

# The C tests again, each case under valgrind memcheck: no error, nothing definitely lost.
test-valgrind:
	SELECTORS_TEST_WRAPPER="$(VALGRIND)" $(CARGO) test --test c_api
