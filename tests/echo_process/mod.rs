//! An echo server example (`examples/echo_server.c`, or its C++ twin `examples/echo_server.cpp`)
//! as a process to test from outside: started on any free loopback port with a chosen fd limit,
//! watched through `/proc/<pid>` (open fds, resident memory, CPU time), stopped with SIGTERM.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Stdio};
use std::time::{Duration, Instant};

use crate::support;

/// A running echo server, the port it listens on and the banner it printed.
pub struct EchoServer {
    child: Child,
    output: BufReader<ChildStdout>,
    errors: ChildStderr,
    pub port: u16,
    pub banner: String,
}

impl EchoServer {
    /// Starts the example `program` (as build.rs names it: `echo_server`, `echo_server_cxx`)
    /// quiet (`-q`), with its soft RLIMIT_NOFILE set to `fd_limit` (`None`: raised to the hard
    /// limit, for many connections).
    pub fn start(program: &str, fd_limit: Option<u64>) -> EchoServer {
        EchoServer::start_with(program, &["-q"], fd_limit)
    }

    /// Starts `program` as [`EchoServer::start`] does, with `args` before the port (`0`: any
    /// free one) instead of `-q`.
    pub fn start_with(program: &str, args: &[&str], fd_limit: Option<u64>) -> EchoServer {
        let program = support::link(program);
        let mut command = support::command(&program);
        command
            .args(args)
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: getrlimit/setrlimit are async-signal-safe and touch only the child.
        unsafe {
            command.pre_exec(move || {
                let mut limit = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                limit.rlim_cur = fd_limit.unwrap_or(limit.rlim_max).min(limit.rlim_max);
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn().expect("the echo server starts");
        let mut output = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let errors = child.stderr.take().expect("stderr is piped");
        let mut banner = String::new();
        output
            .read_line(&mut banner)
            .expect("the server prints its banner");
        let port = support::port_from_banner(&banner);
        EchoServer {
            child,
            output,
            errors,
            port,
            banner,
        }
    }

    /// A client connection whose reads give up after `read_timeout`, so a lost echo fails the
    /// test instead of hanging it.
    pub fn connect(&self, read_timeout: Duration) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("the server accepts");
        stream
            .set_read_timeout(Some(read_timeout))
            .expect("a read timeout can be set");
        stream
    }

    fn proc_path(&self, name: &str) -> String {
        format!("/proc/{}/{name}", self.child.id())
    }

    /// How many fds the server has open.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(self.proc_path("fd"))
            .expect("the server's /proc/<pid>/fd is readable")
            .count()
    }

    /// Waits up to `limit` for the server's open fds to come down to `count`; returns the last
    /// count seen.
    pub fn wait_for_open_fds(&self, count: usize, limit: Duration) -> usize {
        let started = Instant::now();
        loop {
            let now = self.open_fds();
            if now <= count || started.elapsed() > limit {
                return now;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's resident memory, in KiB (VmRSS).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(self.proc_path("status"))
            .expect("the server's /proc/<pid>/status is readable");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .expect("VmRSS is listed")
    }

    /// The CPU time the server has used, user and system, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(self.proc_path("stat"))
            .expect("the server's /proc/<pid>/stat is readable");
        // Fields after the command name (which may hold spaces), from the 3rd on: utime is the
        // 14th field of the line, stime the 15th.
        let after_name = &stat[stat.rfind(')').expect("a command name") + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        // SAFETY: sysconf only reads a value.
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        ticks as f64 / ticks_per_second as f64
    }

    /// Stops the server with SIGTERM and checks it exits cleanly; returns what it printed on
    /// stdout and stderr after its banner.
    pub fn stop(mut self) -> (String, String) {
        // SAFETY: kill sends a signal to our own child process.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0);
        let mut output = String::new();
        self.output
            .read_to_string(&mut output)
            .expect("the output is readable");
        let mut errors = String::new();
        self.errors
            .read_to_string(&mut errors)
            .expect("the errors are readable");
        let status = self.child.wait().expect("the server exits");
        assert!(
            status.success(),
            "the server exited with {status}: {errors}"
        );
        assert!(output.contains("Echo server stopped"), "{output}");
        (output, errors)
    }
}
