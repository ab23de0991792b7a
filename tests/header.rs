//! The committed `include/selectors.h` is exactly what cbindgen generates from the sources.

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/include/selectors.h"));
    let committed = include_str!("../include/selectors.h");
    assert!(
        generated == committed,
        "include/selectors.h is stale: run `SELECTORS_BLESS_HEADER=1 cargo build` and commit it"
    );
}
