//! The echo server examples on a real loopback socket: a session like `nc localhost 12345`, a
//! load that checks every byte, and a clean stop on SIGTERM. Each test runs for both servers,
//! `examples/echo_server.c` on the C API and `examples/echo_server.cpp` on `selectors.hpp`.
//!
//! Linux only: build.rs compiles the C programs for native Linux builds alone.
#![cfg(target_os = "linux")]

mod echo_process;
mod support;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::thread;
use std::time::Duration;

use echo_process::EchoServer;

/// The C example, as build.rs names it.
const C_SERVER: &str = "echo_server";
/// The C++ example (`examples/echo_server.cpp`), as build.rs and `examples/Makefile` name it.
const CXX_SERVER: &str = "echo_server_cxx";

/// How long a client waits for an echo before the test fails.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts the example `program` on any free port with `args` before the port, and checks that
/// its banner names the selector `kind` (DEFAULT is `EpollSelector` on Linux).
fn start(program: &str, args: &[&str], kind: &str) -> EchoServer {
    let server = EchoServer::start_with(program, args, None);
    assert!(
        server.banner.contains(kind),
        "not on {kind}: {:?}",
        server.banner
    );
    server
}

/// Bytes that differ for every connection and position, so a byte echoed to the wrong client
/// or out of order is caught.
fn pattern(client: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ client.wrapping_mul(131) ^ (i >> 8)) as u8)
        .collect()
}

/// Sends `message` while reading the echo in parallel (pipelined), and compares every byte.
fn echo_and_verify(server: &EchoServer, client: usize, message: Vec<u8>) {
    let mut stream = server.connect(READ_TIMEOUT);
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
    let server = start(program, &[], "EpollSelector");
    let mut stream = server.connect(READ_TIMEOUT);
    stream.write_all(b"hello, selectors\n").unwrap();
    let mut reply = [0u8; 17];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"hello, selectors\n");
    drop(stream);
    // Give the server a moment to see the hang-up before it is stopped.
    thread::sleep(Duration::from_millis(100));
    let (output, _) = server.stop();
    assert!(output.contains("accepted fd"), "{output}");
    assert!(output.contains("echoing 17 bytes"), "{output}");
    assert!(output.contains("closing fd"), "{output}");
}

/// 40 pipelined clients at once, up to 4 MiB each: every byte comes back, in order.
fn load_loses_no_byte(program: &str) {
    load_loses_no_byte_on(start(program, &["-q"], "EpollSelector"));
}

/// The load of [`load_loses_no_byte`] on a server already started.
fn load_loses_no_byte_on(server: EchoServer) {
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
    // stop() checks the clean exit and its "Echo server stopped".
    server.stop();
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
    let server = start(C_SERVER, &["-q", "-k", "kqueue"], "KqueueSelector");
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
