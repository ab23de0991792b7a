//! The fuzz target: an input is a sequence of operations, run on all three Linux kinds against
//! the contract's model (see `selectors_fuzz`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| selectors_fuzz::run::run(&selectors_fuzz::ops::decode(bytes)));
