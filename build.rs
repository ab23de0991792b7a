//! Generates `selectors.h` with cbindgen and compiles the C test programs and examples with the
//! contract's strict flags, so a warning in any of them fails the build.
//!
//! The header is generated into `OUT_DIR`; `SELECTORS_BLESS_HEADER=1 cargo build` also writes it
//! to `include/selectors.h`, and a test fails while the committed copy differs. The C programs
//! are compiled to objects listed in `OUT_DIR/c_programs.txt`; `tests/c_api.rs` links them
//! against the built `libselectors.so` (which does not exist yet while this script runs).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The C test that is also compiled as C++, to prove the header and the API work from C++.
const CXX_TEST: &str = "header";

/// The flags every C program is held to (the C++ build of the header test uses `-std=c++11`).
const STRICT_FLAGS: [&str; 5] = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow"];

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets the manifest dir"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for watched in ["src", "cbindgen.toml", "c_tests", "examples"] {
        println!("cargo:rerun-if-changed={watched}");
    }
    println!("cargo:rerun-if-env-changed=SELECTORS_BLESS_HEADER");

    let include = out.join("include");
    generate_header(&root, &include);

    let support_dir = root.join("c_tests/support");
    let support = compile(
        &c_sources(&support_dir),
        &[&include, &support_dir],
        &out,
        "support",
        false,
    );
    let mut manifest = String::new();
    for test in c_sources(&root.join("c_tests")) {
        let name = stem(&test);
        let mut objects = compile(
            std::slice::from_ref(&test),
            &[&include, &support_dir],
            &out,
            &name,
            false,
        );
        objects.extend_from_slice(&support);
        writeln!(manifest, "{name}\tc\t{}", join(&objects)).unwrap();
        if name == CXX_TEST {
            let name = format!("{name}_cxx");
            let mut objects = compile(&[test], &[&include, &support_dir], &out, &name, true);
            objects.extend_from_slice(&support);
            writeln!(manifest, "{name}\tc++\t{}", join(&objects)).unwrap();
        }
    }
    for example in c_sources(&root.join("examples")) {
        let name = stem(&example);
        let objects = compile(&[example], &[&include], &out, &name, false);
        writeln!(manifest, "{name}\tc\t{}", join(&objects)).unwrap();
    }
    fs::write(out.join("c_programs.txt"), manifest).expect("OUT_DIR is writable");
    let compiler = cc::Build::new().get_compiler();
    let cxx = cc::Build::new().cpp(true).get_compiler();
    println!("cargo:rustc-env=SELECTORS_CC={}", compiler.path().display());
    println!("cargo:rustc-env=SELECTORS_CXX={}", cxx.path().display());
}

fn generate_header(root: &Path, include: &Path) {
    let config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings =
        cbindgen::generate_with_config(root, config).expect("cbindgen generates the header");
    fs::create_dir_all(include).expect("OUT_DIR is writable");
    bindings.write_to_file(include.join("selectors.h"));
    if env::var_os("SELECTORS_BLESS_HEADER").is_some_and(|value| value == "1") {
        bindings.write_to_file(root.join("include/selectors.h"));
    }
}

/// The `.c` files of a folder, sorted.
fn c_sources(dir: &Path) -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| Some(entry.ok()?.path()))
                .collect()
        })
        .unwrap_or_default();
    sources.retain(|path| path.extension().is_some_and(|ext| ext == "c"));
    sources.sort();
    sources
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

fn join(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compiles `sources` into objects under `OUT_DIR/<name>`; as C99, or as C++11 when `cpp`.
fn compile(
    sources: &[PathBuf],
    includes: &[&Path],
    out: &Path,
    name: &str,
    cpp: bool,
) -> Vec<PathBuf> {
    let mut build = cc::Build::new();
    build.includes(includes);
    build
        .cpp(cpp)
        .out_dir(out.join(name))
        .cargo_metadata(false)
        .flag(if cpp { "-std=c++11" } else { "-std=c99" });
    if cpp {
        build.flag("-xc++");
    }
    for flag in STRICT_FLAGS {
        build.flag(flag);
    }
    for source in sources {
        build.file(source);
    }
    build.compile_intermediates()
}
