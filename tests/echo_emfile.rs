//! EMFILE during accept: the echo server, started with room for few fds, is sent more clients
//! than it can hold. It must shed the excess (closing them at once through its reserve fd, not
//! spinning on a listener that stays readable), keep echoing for the clients it holds, and
//! serve new clients once fds are free again. Both servers: the C example and its C++ twin.
//!
//! Linux only: build.rs compiles the C programs for native Linux builds alone.
#![cfg(target_os = "linux")]

mod echo_process;
mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use echo_process::EchoServer;

/// The server's fd limit: its own 7 fds (stdio, listener, reserve, wakeup, epoll) and room for
/// about 25 clients.
const SERVER_FD_LIMIT: u64 = 32;
const CLIENTS: usize = 60;

/// What became of one client's round trip.
#[derive(Debug, PartialEq)]
enum Outcome {
    Echoed,
    Dropped,
}

fn round_trip(stream: &mut TcpStream, message: &[u8]) -> Outcome {
    if stream.write_all(message).is_err() {
        return Outcome::Dropped;
    }
    let mut echoed = vec![0u8; message.len()];
    match stream.read_exact(&mut echoed) {
        Ok(()) => {
            assert_eq!(echoed, message, "an echo was corrupted");
            Outcome::Echoed
        }
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
            ) =>
        {
            Outcome::Dropped
        }
        Err(err) => panic!("a client neither echoed nor dropped: {err}"),
    }
}

#[test]
fn c_server_sheds_clients_on_emfile_and_keeps_serving() {
    emfile_during_accept_sheds_clients_and_keeps_serving("echo_server");
}

#[test]
fn cxx_server_sheds_clients_on_emfile_and_keeps_serving() {
    emfile_during_accept_sheds_clients_and_keeps_serving("echo_server_cxx");
}

/// Sends the example `program`, limited to SERVER_FD_LIMIT fds, more clients than it can hold.
fn emfile_during_accept_sheds_clients_and_keeps_serving(program: &str) {
    let server = EchoServer::start(program, Some(SERVER_FD_LIMIT));
    let fds_at_start = server.open_fds();
    let cpu_at_start = server.cpu_seconds();
    let mut clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| server.connect(Duration::from_secs(30)))
        .collect();
    let outcomes: Vec<Outcome> = clients
        .iter_mut()
        .enumerate()
        .map(|(i, stream)| round_trip(stream, format!("client {i}\n").as_bytes()))
        .collect();
    let echoed = outcomes.iter().filter(|o| **o == Outcome::Echoed).count();
    let dropped = CLIENTS - echoed;
    eprintln!(
        "{echoed} clients echoed, {dropped} dropped by a server limited to {SERVER_FD_LIMIT} fds"
    );
    assert!(
        echoed >= 20,
        "the server held too few clients: {outcomes:?}"
    );
    assert!(
        dropped >= CLIENTS - 30,
        "the server cannot hold that many: {outcomes:?}"
    );
    // A held client is still served after the shedding.
    let held = outcomes.iter().position(|o| *o == Outcome::Echoed).unwrap();
    assert_eq!(round_trip(&mut clients[held], b"again\n"), Outcome::Echoed);

    drop(clients);
    let fds_after = server.wait_for_open_fds(fds_at_start, Duration::from_secs(10));
    assert_eq!(
        fds_after, fds_at_start,
        "the server's fds after its clients left"
    );
    // With fds free again, new clients are served.
    for i in 0..5 {
        let mut stream = server.connect(Duration::from_secs(30));
        assert_eq!(
            round_trip(&mut stream, format!("later {i}\n").as_bytes()),
            Outcome::Echoed
        );
    }
    // Shedding is not a busy loop: the whole exchange took the server little CPU.
    let cpu_seconds = server.cpu_seconds() - cpu_at_start;
    assert!(cpu_seconds < 2.0, "the server spun: {cpu_seconds} s of CPU");
    let (_, errors) = server.stop();
    assert!(
        errors.contains("out of file descriptors: dropped a client"),
        "{errors}"
    );
}
