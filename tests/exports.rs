//! The shared object's dynamic interface: it exports only `sel_*` functions (rustc exports every
//! `#[no_mangle]` function, whatever its name), exactly those the header declares, and carries
//! the soname `libselectors.so.MAJOR`. Reads it with binutils' `nm` and `readelf`, as a
//! packager would. Linux only, like the soname's link argument in build.rs.
//!
//! A debug build also exports the test hook `sel_debug_inject_panic` (`src/fault.rs`), which
//! the header leaves out; a release build must not (`make sanitize` checks that library).
#![cfg(target_os = "linux")]

mod support;

use std::collections::BTreeSet;
use std::process::Command;

/// The header cbindgen generated for this build.
const HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/include/selectors.h"));

/// The names of the functions the header declares: every top-level line with a `(` names one
/// just before it (cbindgen writes each prototype on one line, `args = "horizontal"`).
fn header_functions() -> BTreeSet<String> {
    HEADER
        .lines()
        .filter(|line| !line.starts_with([' ', '*', '/', '#']))
        .filter_map(|line| line.split_once('(').map(|(before, _)| before))
        .filter_map(|before| before.rsplit([' ', '*']).next())
        .map(str::to_owned)
        .collect()
}

/// Runs `tool` with `args` on the built `libselectors.so` and returns its standard output.
fn inspect(tool: &str, args: &[&str]) -> String {
    let library = support::library_dir().join("libselectors.so");
    let output = Command::new(tool)
        .args(args)
        .arg(&library)
        .output()
        .unwrap_or_else(|error| panic!("{tool} runs (binutils is installed): {error}"));
    assert!(output.status.success(), "{tool} {args:?} failed");
    String::from_utf8(output.stdout).expect("the output is text")
}

/// The test hook that debug builds export beside the header's functions.
const DEBUG_HOOK: &str = "sel_debug_inject_panic";

#[test]
fn exports_exactly_the_header_functions() {
    let mut exported: BTreeSet<String> = inspect("nm", &["-D", "--defined-only"])
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        exported.remove(DEBUG_HOOK),
        cfg!(debug_assertions),
        "{DEBUG_HOOK} is exported exactly by debug builds"
    );
    let foreign: Vec<&String> = exported
        .iter()
        .filter(|name| !name.starts_with("sel_"))
        .collect();
    assert!(
        foreign.is_empty(),
        "exported without the sel_ prefix: {foreign:?}"
    );
    let declared = header_functions();
    assert!(
        declared.contains("sel_new"),
        "the header parses: {declared:?}"
    );
    assert_eq!(exported, declared);
}

#[test]
fn soname_carries_the_major_version() {
    let expected = format!(
        "Library soname: [libselectors.so.{}]",
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    let dynamic = inspect("readelf", &["-d"]);
    assert!(
        dynamic.lines().any(|line| line.ends_with(&expected)),
        "no `{expected}` in readelf -d:\n{dynamic}"
    );
}
