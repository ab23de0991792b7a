//! Runs the C tests in `c_tests/`: every case of every program in a process of its own, against
//! the built `libselectors.so`. A case fails the test when it exits non-zero, prints a failure,
//! or runs past its time limit.
//!
//! Linux only: build.rs compiles the C programs for native Linux builds alone.
#![cfg(target_os = "linux")]

mod support;

use std::sync::{PoisonError, RwLock};
use std::time::Duration;

/// Generous enough for valgrind on a loaded 2-core machine; a hang still fails.
const CASE_LIMIT: Duration = Duration::from_secs(300);

/// Cases that change what every process of this user sees (epoll's `max_user_watches`, lowered
/// for a moment): they run while no other case does, since cargo runs the tests of this binary
/// in parallel threads.
const ALONE: &[&str] = &["enospc_at_register_on_epoll"];

/// Held for reading by every case, for writing by the cases of [`ALONE`].
static CASES_RUNNING: RwLock<()> = RwLock::new(());

/// Links `name` and runs each of its cases; panics listing every failed case.
fn run_program(name: &str) {
    let program = support::link(name);
    let listing = std::process::Command::new(&program)
        .arg("--list")
        .output()
        .expect("the program lists its cases");
    assert!(listing.status.success(), "{name} --list failed");
    let cases: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(!cases.is_empty(), "{name} has no test cases");
    let mut failures = Vec::new();
    for case in &cases {
        let mut command = support::command(&program);
        command.arg(case);
        let alone = ALONE.contains(&case.as_str());
        let _shared =
            (!alone).then(|| CASES_RUNNING.read().unwrap_or_else(PoisonError::into_inner));
        let _exclusive = alone.then(|| {
            CASES_RUNNING
                .write()
                .unwrap_or_else(PoisonError::into_inner)
        });
        match support::run_with_limit(command, CASE_LIMIT) {
            None => failures.push(format!("{case}: killed after {CASE_LIMIT:?}")),
            Some(output) if !output.status.success() => failures.push(format!(
                "{case}: {}\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )),
            Some(output) => print!("{}", String::from_utf8_lossy(&output.stdout)),
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

macro_rules! c_programs {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_program(stringify!($name));
            }
        )*

        /// Every C and C++ test program build.rs compiled has a test here (examples have their
        /// own).
        #[test]
        fn every_c_program_runs() {
            let listed = [$(stringify!($name)),*];
            for name in support::program_names() {
                let is_example = name.starts_with("echo_server");
                assert!(is_example || listed.contains(&name), "test program {name} has no test in tests/c_api.rs");
            }
        }
    };
}

c_programs!(
    api_errors,
    cloexec,
    exact_room,
    fork,
    header,
    header_cxx,
    modes,
    probing,
    readiness,
    scale,
    stale,
    threads,
    timeouts,
    wakeup,
    faults,
    fuzz_found,
    strerror,
    panics,
    wrapper,
    wrapper_errors,
);
