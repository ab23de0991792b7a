//! Soak: the echo server (`examples/echo_server.c`, on the kind `SOAK_KIND` names) under 1,000
//! concurrent loopback connections that open and close continuously for `SOAK_SECONDS` (10 by
//! default here; `make soak` runs 60). Each connection sends one message of a random size up to 1
//! MiB (log-uniform, so small and large ones both come often), reads the echo while it sends,
//! half-closes, checks every byte and the length at EOF, and is replaced by a new connection. Then
//! every connection still in flight is finished, and the run asserts:
//!
//! - no byte lost or corrupted;
//! - the server's open fds (`/proc/<pid>/fd`) back to their count before the load;
//! - the server's resident memory bounded: never more than [`RSS_BOUND_KIB`] above its idle
//!   RSS, and no growth beyond [`RSS_DRIFT_KIB`] over the second half of the run.
//!
//! Linux only: build.rs compiles the C programs for native Linux builds alone.
#![cfg(target_os = "linux")]

mod echo_process;
mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use echo_process::EchoServer;

const CONNECTIONS: usize = 1000;
const WORKERS: usize = 4;
const LARGEST_MESSAGE: u64 = 1 << 20;
/// The longest the connections in flight at the end may take to finish.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);
/// The server keeps at most one read chunk (64 KiB) unsent per connection, so 1,000
/// connections need at most ~64 MiB of buffers; 96 MiB leaves room for the allocator.
const RSS_BOUND_KIB: u64 = 96 * 1024;
/// Once the load is steady (half-way), the RSS may wander this much, not grow without bound.
const RSS_DRIFT_KIB: u64 = 2 * 1024;

/// The selector kind the server runs on: `SOAK_KIND` (`epoll`, `poll`, `kqueue`: a name
/// `echo_server -k` takes), or the default kind when unset. SELECT is not among them: 1,000
/// connections need fds beyond its FD_SETSIZE.
fn soak_kind() -> Option<String> {
    std::env::var("SOAK_KIND")
        .ok()
        .filter(|kind| !kind.is_empty())
}

fn soak_seconds() -> u64 {
    std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10)
}

/// The byte at `offset` of the message seeded with `seed`: cheap to recompute, different for
/// every connection and position, so a byte echoed out of order or to the wrong client shows.
fn pattern_byte(seed: u64, offset: u64) -> u8 {
    let mut x = seed ^ offset.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (x >> 56) as u8
}

/// A small xorshift generator: sizes and seeds, reproducible per worker.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A size from 1 byte to 1 MiB, log-uniform.
    fn message_len(&mut self) -> u64 {
        let bits = self.next() % 21;
        (1 + self.next() % (1 << bits)).min(LARGEST_MESSAGE)
    }
}

/// Totals over every worker.
#[derive(Default)]
struct Totals {
    connections: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_verified: AtomicU64,
    bytes_lost: AtomicU64,
    bytes_corrupted: AtomicU64,
}

/// One client connection and its message.
struct Client {
    stream: TcpStream,
    seed: u64,
    len: u64,
    sent: u64,
    received: u64,
}

impl Client {
    fn open(port: u16, random: &mut Random) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts");
        stream.set_nonblocking(true).expect("non-blocking");
        Client {
            stream,
            seed: random.next(),
            len: random.message_len(),
            sent: 0,
            received: 0,
        }
    }

    /// Sends what the socket takes now; half-closes once the message is out.
    fn send(&mut self, totals: &Totals) {
        let mut chunk = [0u8; 65536];
        while self.sent < self.len {
            let n = (self.len - self.sent).min(chunk.len() as u64) as usize;
            for (i, byte) in chunk[..n].iter_mut().enumerate() {
                *byte = pattern_byte(self.seed, self.sent + i as u64);
            }
            match self.stream.write(&chunk[..n]) {
                Ok(written) => {
                    self.sent += written as u64;
                    totals
                        .bytes_sent
                        .fetch_add(written as u64, Ordering::Relaxed);
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => return,
                Err(err) => panic!("send failed: {err}"),
            }
        }
        self.stream.shutdown(Shutdown::Write).expect("half-close");
    }

    /// Reads and checks what arrived; `true` once the echo has ended (EOF or reset).
    fn receive(&mut self, totals: &Totals) -> bool {
        let mut buffer = [0u8; 65536];
        loop {
            match self.stream.read(&mut buffer) {
                Ok(0) => return true,
                Ok(n) => {
                    let corrupted = buffer[..n]
                        .iter()
                        .enumerate()
                        .filter(|(i, byte)| {
                            **byte != pattern_byte(self.seed, self.received + *i as u64)
                        })
                        .count();
                    totals
                        .bytes_corrupted
                        .fetch_add(corrupted as u64, Ordering::Relaxed);
                    totals
                        .bytes_verified
                        .fetch_add((n - corrupted) as u64, Ordering::Relaxed);
                    self.received += n as u64;
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => return false,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }

    /// Accounts for a finished echo: whatever did not come back is lost.
    fn finish(&self, totals: &Totals) {
        totals
            .bytes_lost
            .fetch_add(self.len.saturating_sub(self.received), Ordering::Relaxed);
        totals.connections.fetch_add(1, Ordering::Relaxed);
    }
}

/// Keeps `count` connections busy until `stop`, replacing each one that finishes; then
/// finishes those in flight.
fn run_worker(port: u16, count: usize, seed: u64, stop: &AtomicBool, totals: &Totals) {
    let mut random = Random(seed | 1);
    let mut clients: Vec<Client> = (0..count)
        .map(|_| Client::open(port, &mut random))
        .collect();
    let mut draining_since: Option<Instant> = None;
    while !clients.is_empty() {
        if draining_since.is_none() && stop.load(Ordering::Relaxed) {
            draining_since = Some(Instant::now());
        }
        if let Some(since) = draining_since {
            assert!(
                since.elapsed() < DRAIN_LIMIT,
                "{} echoes never ended",
                clients.len()
            );
        }
        let mut polled: Vec<libc::pollfd> = clients
            .iter()
            .map(|client| libc::pollfd {
                fd: client.stream.as_raw_fd(),
                events: libc::POLLIN
                    | if client.sent < client.len {
                        libc::POLLOUT
                    } else {
                        0
                    },
                revents: 0,
            })
            .collect();
        // SAFETY: a live array of pollfds of its length.
        let ready = unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, 100) };
        assert!(ready >= 0 || std::io::Error::last_os_error().kind() == ErrorKind::Interrupted);
        let mut index = clients.len();
        while index > 0 {
            index -= 1;
            let revents = polled[index].revents;
            if revents & libc::POLLOUT != 0 {
                clients[index].send(totals);
            }
            if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0
                && clients[index].receive(totals)
            {
                let done = clients.swap_remove(index);
                done.finish(totals);
                if draining_since.is_none() {
                    clients.push(Client::open(port, &mut random));
                }
            }
        }
    }
}

/// Raises this process's soft fd limit to the hard one: 1,000 clients need more than 1,024.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain struct out-parameters.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
}

#[test]
fn a_thousand_connections_churning_lose_no_byte() {
    raise_fd_limit();
    let seconds = soak_seconds();
    let kind = soak_kind();
    let server = match &kind {
        Some(kind) => EchoServer::start_with("echo_server", &["-q", "-k", kind], None),
        None => EchoServer::start("echo_server", None),
    };
    let fds_idle = server.open_fds();
    let rss_idle = server.rss_kib();
    let totals = Totals::default();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (mut rss_peak, mut rss_half, mut rss_last, mut fds_peak) = (rss_idle, 0, 0, fds_idle);
    std::thread::scope(|scope| {
        for worker in 0..WORKERS {
            let (stop, totals, port) = (&stop, &totals, server.port);
            scope.spawn(move || {
                run_worker(port, CONNECTIONS / WORKERS, worker as u64 + 1, stop, totals)
            });
        }
        while started.elapsed() < Duration::from_secs(seconds) {
            std::thread::sleep(Duration::from_millis(250));
            rss_last = server.rss_kib();
            rss_peak = rss_peak.max(rss_last);
            fds_peak = fds_peak.max(server.open_fds());
            if rss_half == 0 && started.elapsed() >= Duration::from_secs(seconds) / 2 {
                rss_half = rss_last;
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    let fds_after = server.wait_for_open_fds(fds_idle, Duration::from_secs(10));
    let rss_after = server.rss_kib();
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    eprintln!(
        "soak {seconds} s on {}: {} connections, {:.1} MiB sent, {:.1} MiB verified, {} bytes lost, \
         {} corrupted; server fds {fds_idle} idle, {fds_peak} peak, {fds_after} after; RSS KiB \
         {rss_idle} idle, {rss_half} half-way, {rss_last} at the end, {rss_peak} peak, \
         {rss_after} after",
        kind.as_deref().unwrap_or("the default kind"),
        load(&totals.connections),
        load(&totals.bytes_sent) as f64 / 1048576.0,
        load(&totals.bytes_verified) as f64 / 1048576.0,
        load(&totals.bytes_lost),
        load(&totals.bytes_corrupted),
    );
    assert_eq!(load(&totals.bytes_lost), 0, "bytes lost");
    assert_eq!(load(&totals.bytes_corrupted), 0, "bytes corrupted");
    assert_eq!(load(&totals.bytes_verified), load(&totals.bytes_sent));
    assert!(
        load(&totals.connections) > CONNECTIONS as u64,
        "connections did not churn"
    );
    assert!(
        fds_peak >= fds_idle + CONNECTIONS / 2,
        "the load never reached the server"
    );
    assert_eq!(
        fds_after, fds_idle,
        "the server's fds after every client left"
    );
    assert!(rss_peak <= rss_idle + RSS_BOUND_KIB, "RSS beyond its bound");
    assert!(
        rss_last <= rss_half + RSS_DRIFT_KIB,
        "RSS grew over the second half"
    );
    server.stop();
}
