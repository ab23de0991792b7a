//! The echo server examples on a real loopback socket: a session like `nc localhost 12345`, a
//! load that checks every byte, and a clean stop on SIGTERM. Each test runs for both servers,
//! `examples/echo_server.c` on the C API and `examples/echo_server.cpp` on `selectors.hpp`.
//!
//! Linux only: build.rs compiles the C programs for native Linux builds alone.
#![cfg(target_os = "linux")]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, ChildStdout, Stdio};
use std::thread;
use std::time::Duration;

/// The C example, as build.rs names it.
const C_SERVER: &str = "echo_server";
/// The C++ example (`examples/echo_server.cpp`), as build.rs and `examples/Makefile` name it.
const CXX_SERVER: &str = "echo_server_cxx";

/// A running echo server and the port it listens on.
struct Server {
    child: Child,
    output: BufReader<ChildStdout>,
    port: u16,
}

impl Server {
    /// Starts the example `program` on any free port (`args` come before the port) with
    /// DEFAULT, which is epoll on Linux.
    fn start(program: &str, args: &[&str]) -> Server {
        Server::start_on(program, args, "EpollSelector")
    }

    /// Starts the example `program` on any free port (`args` come before the port); its banner
    /// names the selector `kind`.
    fn start_on(program: &str, args: &[&str], kind: &str) -> Server {
        let program = support::link(program);
        let mut child = support::command(&program)
            .args(args)
            .arg("0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the echo server starts");
        let mut output = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut banner = String::new();
        output
            .read_line(&mut banner)
            .expect("the server prints its banner");
        let port = support::port_from_banner(&banner);
        assert!(banner.contains(kind), "not on {kind}: {banner:?}");
        Server {
            child,
            output,
            port,
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("the server accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("a read timeout can be set");
        stream
    }

    /// Stops the server with SIGTERM; returns the rest of its output.
    fn stop(mut self) -> String {
        // SAFETY: kill sends a signal to our own child process.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0);
        let mut rest = String::new();
        self.output
            .read_to_string(&mut rest)
            .expect("the output is readable");
        let status = self.child.wait().expect("the server exits");
        assert!(status.success(), "the server exited with {status}");
        rest
    }
}

/// Bytes that differ for every connection and position, so a byte echoed to the wrong client
/// or out of order is caught.
fn pattern(client: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ client.wrapping_mul(131) ^ (i >> 8)) as u8)
        .collect()
}

/// Sends `message` while reading the echo in parallel (pipelined), and compares every byte.
fn echo_and_verify(server: &Server, client: usize, message: Vec<u8>) {
    let mut stream = server.connect();
    let mut writer = stream.try_clone().expect("the socket can be cloned");
    let expected = message.clone();
    let sender = thread::spawn(move || {
        writer
            .write_all(&message)
            .expect("the server takes the data");
        writer.shutdown(Shutdown::Write).expect("half-close works");
    });
    let mut echoed = Vec::with_capacity(expected.len());
    stream.read_to_end(&mut echoed).expect("the echo arrives");
    sender.join().expect("the sender finishes");
    assert_eq!(echoed.len(), expected.len(), "client {client}: bytes lost");
    assert!(echoed == expected, "client {client}: bytes corrupted");
}

/// One client's session, as with `nc`: the echo, and the server's messages about it.
fn a_session_like_nc(program: &str) {
    let server = Server::start(program, &[]);
    let mut stream = server.connect();
    stream.write_all(b"hello, selectors\n").unwrap();
    let mut reply = [0u8; 17];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"hello, selectors\n");
    drop(stream);
    // Give the server a moment to see the hang-up before it is stopped.
    thread::sleep(Duration::from_millis(100));
    let output = server.stop();
    assert!(output.contains("accepted fd"), "{output}");
    assert!(output.contains("echoing 17 bytes"), "{output}");
    assert!(output.contains("closing fd"), "{output}");
    assert!(output.contains("Echo server stopped"), "{output}");
}

/// 40 pipelined clients at once, up to 4 MiB each: every byte comes back, in order.
fn load_loses_no_byte(program: &str) {
    load_loses_no_byte_on(Server::start(program, &["-q"]));
}

/// The load of [`load_loses_no_byte`] on a server already started.
fn load_loses_no_byte_on(server: Server) {
    // Sizes from one byte to far beyond the socket buffers, which forces partial sends.
    let sizes = [1, 100, 4096, 65_536, 300_000, 1 << 20, 4 << 20];
    thread::scope(|scope| {
        for client in 0..40 {
            let server = &server;
            scope.spawn(move || {
                let len = sizes[client % sizes.len()];
                echo_and_verify(server, client, pattern(client, len));
            });
        }
    });
    let output = server.stop();
    assert!(output.contains("Echo server stopped"), "{output}");
}

#[test]
fn c_server_session_like_nc() {
    a_session_like_nc(C_SERVER);
}

#[test]
fn c_server_load_loses_no_byte() {
    load_loses_no_byte(C_SERVER);
}

/// The C server's load on KQUEUE, through libkqueue.
#[cfg(feature = "libkqueue")]
#[test]
fn c_server_load_loses_no_byte_on_kqueue() {
    let server = Server::start_on(C_SERVER, &["-q", "-k", "kqueue"], "KqueueSelector");
    load_loses_no_byte_on(server);
}

#[test]
fn cxx_server_session_like_nc() {
    a_session_like_nc(CXX_SERVER);
}

#[test]
fn cxx_server_load_loses_no_byte() {
    load_loses_no_byte(CXX_SERVER);
}
