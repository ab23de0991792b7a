//! Links the C programs that build.rs compiled against the built `libselectors.so`, and runs
//! them with a time limit.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What build.rs compiled: one line per program, `name<TAB>language<TAB>objects`.
const MANIFEST: &str = include_str!(concat!(env!("OUT_DIR"), "/c_programs.txt"));

/// The names of every C program build.rs compiled.
pub fn program_names() -> Vec<&'static str> {
    MANIFEST
        .lines()
        .filter_map(|line| line.split('\t').next())
        .collect()
}

/// The folder holding the `libselectors.so` built with this test binary: `deps/` beside it,
/// where cargo builds the library's cdylib for tests (it copies it up to the profile folder
/// only on `cargo build`, so that copy may be stale).
pub fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let dir = exe
        .parent()
        .expect("test binaries live in <target>/<profile>/deps")
        .to_path_buf();
    assert!(
        dir.join("libselectors.so").exists(),
        "{} has no libselectors.so; cargo builds it with the tests",
        dir.display()
    );
    dir
}

/// Links the program `name` against `libselectors.so` (with an rpath to it) and returns its
/// path.
pub fn link(name: &str) -> PathBuf {
    let line = MANIFEST
        .lines()
        .find(|line| line.split('\t').next() == Some(name))
        .unwrap_or_else(|| panic!("build.rs compiled no C program named {name}"));
    let mut fields = line.split('\t').skip(1);
    let language = fields.next().expect("a language field");
    let objects = fields.next().expect("an objects field").split(' ');
    let lib_dir = library_dir();
    let out_dir = lib_dir.join("c_programs");
    std::fs::create_dir_all(&out_dir).expect("the target folder is writable");
    let program = out_dir.join(name);
    // Linked under a name of its own, then renamed into place: tests (and other cargo runs)
    // that link the same program at once never write over a file that another one executes.
    let unique = out_dir.join(format!(
        "{name}.{}.{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let linker = if language == "c++" {
        env!("SELECTORS_CXX")
    } else {
        env!("SELECTORS_CC")
    };
    let status = Command::new(linker)
        .arg("-o")
        .arg(&unique)
        .args(objects)
        .arg(format!("-L{}", lib_dir.display()))
        // An RPATH, not a RUNPATH: it outranks the LD_LIBRARY_PATH that cargo sets for tests,
        // which lists the profile folder and its possibly stale copy of the library.
        .arg(format!(
            "-Wl,--disable-new-dtags,-rpath,{}",
            lib_dir.display()
        ))
        .args(["-lselectors", "-lpthread", "-lm"])
        .status()
        .expect("the C compiler runs");
    assert!(status.success(), "linking {name} failed");
    std::fs::rename(&unique, &program).expect("the linked program can be moved into place");
    program
}

/// The command that runs `program`, behind `SELECTORS_TEST_WRAPPER` when it is set (for
/// example `valgrind --error-exitcode=99 --leak-check=full`).
pub fn command(program: &Path) -> Command {
    let wrapper = std::env::var("SELECTORS_TEST_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let mut command = match words.next() {
        Some(first) => {
            let mut command = Command::new(first);
            command.args(words).arg(program);
            command
        }
        None => Command::new(program),
    };
    command.stdin(Stdio::null());
    command
}

/// The port in the echo server's first line, `Echo server running on localhost:PORT (Kind)`.
pub fn port_from_banner(banner: &str) -> u16 {
    banner
        .strip_prefix("Echo server running on localhost:")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("unexpected banner {banner:?}"))
}

/// Runs `command` to completion, killing it after `limit`; `None` if it had to be killed.
pub fn run_with_limit(mut command: Command, limit: Duration) -> Option<Output> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    let started = Instant::now();
    while child
        .try_wait()
        .expect("the child can be waited for")
        .is_none()
    {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Some(child.wait_with_output().expect("the output is readable"))
}
