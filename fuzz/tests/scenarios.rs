//! The hand-written scenarios, run as tests (`cargo test` in `fuzz/`): the seeds pass (one of
//! them is the epoll bug this fuzzer found, kept as a regression test), and the byte encoding
//! round-trips.

use selectors_fuzz::ops::{decode, encode};
use selectors_fuzz::run::run;
use selectors_fuzz::scenarios::seeds;

#[test]
fn seeds_pass() {
    for (name, ops) in seeds() {
        eprintln!("seed {name}");
        run(&ops);
    }
}

#[test]
fn seeds_round_trip_through_the_byte_format() {
    for (name, ops) in seeds() {
        assert_eq!(decode(&encode(&ops)), ops, "{name}");
    }
}
