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

/// The flags every C and C++ program is held to, beside its language's `-std`.
const STRICT_FLAGS: [&str; 5] = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow"];

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets the manifest dir"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for watched in [
        "src",
        "cbindgen.toml",
        "c_tests",
        "cxx_tests",
        "examples",
        "include/selectors.hpp",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    println!("cargo:rerun-if-env-changed=SELECTORS_BLESS_HEADER");
    declare_interface_cfgs();
    link_shared_library(&out);

    let include = out.join("include");
    generate_header(&root, &include);

    // A cross build (`ci/cross-check`, the type check of other platforms) has no C compiler for
    // its target and nothing to run the programs on, and the C tests use Linux's interfaces
    // (seccomp, eventfd, epoll): elsewhere the build makes the library and the header alone.
    let native = env::var("TARGET") == env::var("HOST");
    if native && env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let manifest = compile_c_programs(&root, &include, &out);
        fs::write(out.join("c_programs.txt"), manifest).expect("OUT_DIR is writable");
        let compiler = cc::Build::new().get_compiler();
        let cxx = cc::Build::new().cpp(true).get_compiler();
        println!("cargo:rustc-env=SELECTORS_CC={}", compiler.path().display());
        println!("cargo:rustc-env=SELECTORS_CXX={}", cxx.path().display());
    }
}

/// The language a program is compiled as: the C API's C99, the C++11 the header promises to
/// work with, or the C++17 that `selectors.hpp` needs.
#[derive(Clone, Copy, PartialEq)]
enum Language {
    C99,
    Cxx11,
    Cxx17,
}

/// Compiles every C test and example, the C++ tests of `selectors.hpp` and the C++ examples;
/// returns the manifest: one line per program, its name, its language and its objects.
fn compile_c_programs(root: &Path, include: &Path, out: &Path) -> String {
    let support_dir = root.join("c_tests/support");
    // selectors.hpp is written by hand, beside the committed selectors.h that it includes.
    let wrapper_include = root.join("include");
    let support = compile(
        &sources(&support_dir, "c"),
        &[include, &support_dir],
        out,
        "support",
        Language::C99,
    );
    let mut manifest = String::new();
    for test in sources(&root.join("c_tests"), "c") {
        let name = stem(&test);
        let mut objects = compile(
            std::slice::from_ref(&test),
            &[include, &support_dir],
            out,
            &name,
            Language::C99,
        );
        objects.extend_from_slice(&support);
        writeln!(manifest, "{name}\tc\t{}", join(&objects)).unwrap();
        if name == CXX_TEST {
            let name = format!("{name}_cxx");
            let mut objects = compile(
                &[test],
                &[include, &support_dir],
                out,
                &name,
                Language::Cxx11,
            );
            objects.extend_from_slice(&support);
            writeln!(manifest, "{name}\tc++\t{}", join(&objects)).unwrap();
        }
    }
    for test in sources(&root.join("cxx_tests"), "cpp") {
        let name = stem(&test);
        let includes = [wrapper_include.as_path(), &support_dir];
        let mut objects = compile(&[test], &includes, out, &name, Language::Cxx17);
        objects.extend_from_slice(&support);
        writeln!(manifest, "{name}\tc++\t{}", join(&objects)).unwrap();
    }
    for example in sources(&root.join("examples"), "c") {
        let name = stem(&example);
        let objects = compile(&[example], &[include], out, &name, Language::C99);
        writeln!(manifest, "{name}\tc\t{}", join(&objects)).unwrap();
    }
    // A C++ example is named like examples/Makefile names it: echo_server.cpp is echo_server_cxx.
    for example in sources(&root.join("examples"), "cpp") {
        let name = format!("{}_cxx", stem(&example));
        let objects = compile(&[example], &[&wrapper_include], out, &name, Language::Cxx17);
        writeln!(manifest, "{name}\tc++\t{}", join(&objects)).unwrap();
    }
    manifest
}

/// Names the target's scalable kernel interface as a cfg, `kqueue` (macOS and the BSDs) or
/// `devpoll` (illumos and Solaris), so the code says which interface it needs instead of
/// repeating lists of systems.
fn declare_interface_cfgs() {
    println!("cargo:rustc-check-cfg=cfg(kqueue, devpoll, libkqueue)");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" && env::var_os("CARGO_FEATURE_LIBKQUEUE").is_some() {
        link_libkqueue();
        println!("cargo:rustc-cfg=kqueue");
        println!("cargo:rustc-cfg=libkqueue");
    }
    let kqueue_systems = [
        "macos",
        "ios",
        "tvos",
        "watchos",
        "visionos",
        "freebsd",
        "netbsd",
        "openbsd",
        "dragonfly",
    ];
    if kqueue_systems.contains(&os.as_str()) {
        println!("cargo:rustc-cfg=kqueue");
    }
    if ["illumos", "solaris"].contains(&os.as_str()) {
        println!("cargo:rustc-cfg=devpoll");
    }
}

/// Links libkqueue (the `libkqueue` feature on Linux) where pkg-config finds it, and hands its
/// compiler flags to the test that checks `src/backend/kqueue_sys.rs` against its header. The
/// library's folder is also the run path, so a prefix outside the loader's own list works.
fn link_libkqueue() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let query = |what: &str| {
        let output = std::process::Command::new("pkg-config")
            .args([what, "libkqueue"])
            .output()
            .unwrap_or_else(|error| panic!("the libkqueue feature needs pkg-config: {error}"));
        assert!(
            output.status.success(),
            "the libkqueue feature needs libkqueue, and `pkg-config {what} libkqueue` failed: \
             install it from source (README, \"KQUEUE on Linux\")\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("pkg-config prints text")
            .trim()
            .to_owned()
    };
    let libdir = query("--variable=libdir");
    let cflags = query("--cflags");
    println!("cargo:rustc-link-search=native={libdir}");
    println!("cargo:rustc-link-lib=dylib=kqueue");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{libdir}");
    println!("cargo:rustc-env=SELECTORS_LIBKQUEUE_CFLAGS={cflags}");
}

// ---- Shared library: soname (packaging, issue 7) ------------------------------------------

/// Links `libselectors.so` with a soname carrying the major version (`libselectors.so.0`), so a
/// program keeps loading every later ABI-compatible release.
///
/// No version script of ours: rustc already links a cdylib with one that exports exactly the
/// `#[no_mangle]` functions and makes everything else local, and GNU ld does not let a second
/// script narrow that list (a symbol global in either stays global). `tests/exports.rs` is what
/// holds the exports equal to the header's functions.
///
/// A program linked against the build tree records the soname too, and the loader looks for a
/// file of that name: so a `libselectors.so.0 -> libselectors.so` symlink is made where cargo
/// puts the library (the profile folder and its `deps/`), for `make demo`, the benches and the
/// C tests. OUT_DIR is `<profile>/build/<package>-<hash>/out`.
fn link_shared_library(out: &Path) {
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return; // -soname is GNU ld's; other platforms are not packaged yet
    }
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    let soname = format!("libselectors.so.{major}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    let profile = out
        .ancestors()
        .nth(3)
        .expect("OUT_DIR lies in the profile folder");
    for dir in [profile.to_path_buf(), profile.join("deps")] {
        fs::create_dir_all(&dir).expect("the target folder is writable");
        match std::os::unix::fs::symlink("libselectors.so", dir.join(&soname)) {
            Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => {
                panic!("cannot link {soname} in {}: {error}", dir.display())
            }
            _ => {}
        }
    }
}

// ---- End of the shared library block -----------------------------------------------------

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

/// The files of a folder with the extension `ext`, sorted.
fn sources(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| Some(entry.ok()?.path()))
                .collect()
        })
        .unwrap_or_default();
    sources.retain(|path| path.extension().is_some_and(|found| found == ext));
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

/// Compiles `sources` into objects under `OUT_DIR/<name>` as `language`.
fn compile(
    sources: &[PathBuf],
    includes: &[&Path],
    out: &Path,
    name: &str,
    language: Language,
) -> Vec<PathBuf> {
    let cpp = language != Language::C99;
    let mut build = cc::Build::new();
    build.includes(includes);
    build
        .cpp(cpp)
        .out_dir(out.join(name))
        .cargo_metadata(false)
        .flag(match language {
            Language::C99 => "-std=c99",
            Language::Cxx11 => "-std=c++11",
            Language::Cxx17 => "-std=c++17",
        });
    if cpp {
        build.flag("-xc++");
    }
    for flag in STRICT_FLAGS {
        build.flag(flag);
    }
    if env::var_os("CARGO_FEATURE_LIBKQUEUE").is_some() {
        // The tests expect KQUEUE on Linux, and libkqueue's ways where they differ from the BSDs.
        build.define("SEL_TEST_LIBKQUEUE", None);
    }
    for source in sources {
        build.file(source);
    }
    build.compile_intermediates()
}
