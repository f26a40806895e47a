//! The TCP connection under `ureq`: `ureq`'s own, with fewer system calls
//! per request, which on a small machine is most of what a loopback round
//! trip costs beyond the server's work (`bench/`, rows 1 and 2).
//!
//! - Checking that a kept connection is still open (which `ureq` does when
//!   it takes one from its pool and when it returns it) is one
//!   non-blocking peek, where `ureq` switches the socket to non-blocking
//!   mode, reads and switches it back: three calls.
//! - A socket's read and write timeouts are set only when the one in place
//!   could outlast what is left of the exchange's time, or would end the
//!   wait far too early; `ureq` sets them before every read and write.
//! - On Linux, `connect` is bounded by the socket's send timeout: one call
//!   where `connect_timeout` makes four. Elsewhere it is made without
//!   blocking and waited for (poll, or select on Windows), a slice at a
//!   time inside a cancel scope.
//! - After a `Connection: close` reply, the server's close is awaited only
//!   if it has not come already (one peek).
//!
//! Connecting and the timeouts' meaning are unchanged: every wait ends by
//! the exchange's deadline. Inside a [`Cancel`](crate::Cancel) scope the
//! socket is registered with the token (a cancel shuts it down) and every
//! wait (connecting included) looks at the token at least every
//! [`SLICE`](crate::cancel::SLICE).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cancel::{self, Cancelled, Registration};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};

/// Connects plain TCP, one resolved address after another, within the
/// connect timeout as a whole.
#[derive(Debug)]
pub(crate) struct TcpConnector;

impl Connector<()> for TcpConnector {
    type Out = Tcp;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<Tcp>, ureq::Error> {
        let deadline = deadline(details.timeout);
        let mut last = None;
        for addr in details.addrs.iter() {
            match connect(addr, deadline) {
                Ok((stream, write_timeout)) => {
                    stream.set_nodelay(details.config.no_delay())?;
                    let buffers = LazyBuffers::new(
                        details.config.input_buffer_size(),
                        details.config.output_buffer_size(),
                    );
                    return Ok(Some(Tcp {
                        stream: Arc::new(stream),
                        buffers,
                        read_timeout: None,
                        write_timeout,
                        registration: None,
                    }));
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(ureq::Error::Timeout(ureq::Timeout::Connect))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted && cancel::should_stop(false) => {
                    return Err(Cancelled::error(false))
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.map_or(ureq::Error::ConnectionFailed, |e| {
            ureq::Error::Other(Box::new(ConnectFailed(e)))
        }))
    }
}

/// A connection that could not be made: nothing of the request was sent.
/// Carried through `ureq` so that the transport can tell it from an I/O
/// error later in the exchange.
#[derive(Debug)]
pub(crate) struct ConnectFailed(pub(crate) io::Error);

impl std::fmt::Display for ConnectFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connect failed: {}", self.0)
    }
}

impl std::error::Error for ConnectFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Connects within `deadline`. On Linux a blocking `connect` ends at the
/// socket's send timeout, so that is one call where `connect_timeout`
/// makes four (non-blocking mode on, connect, poll, off); a second call
/// waits for the same handshake again, and the send timeout set for it
/// serves the request's writes too. Returns the send timeout in place.
#[cfg(target_os = "linux")]
fn connect(
    addr: &SocketAddr,
    deadline: Option<Instant>,
) -> io::Result<(TcpStream, Option<Duration>)> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    let target = (*addr).into();
    let mut timeout = None;
    let mut ask = false;
    loop {
        if cancel::should_stop(ask) {
            // Nothing was sent: the caller reports it as cancelled.
            return Err(io::ErrorKind::Interrupted.into());
        }
        let (until, sliced) = wait_until(deadline);
        if fit_timeout(&mut timeout, until, ureq::Timeout::Connect, |t| {
            socket.set_write_timeout(t)
        })
        .is_err()
        {
            if sliced {
                ask = true;
                continue;
            }
            return Err(io::ErrorKind::TimedOut.into());
        }
        ask = true;
        match socket.connect(&target) {
            Ok(()) => return Ok((socket.into(), timeout)),
            Err(e) if e.raw_os_error() == Some(libc::EISCONN) => {
                return Ok((socket.into(), timeout))
            }
            // The send timeout (or a signal) ended the wait while the
            // handshake goes on: calling again waits for it again.
            Err(e)
                if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EALREADY))
                    || retry(&e) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Connects within `deadline` without blocking: the handshake is started,
/// then waited for a slice at a time, looking at the cancel scope between
/// slices (a cancelled token connects nothing), as the Linux `connect`
/// does with its send timeout.
#[cfg(not(target_os = "linux"))]
fn connect(
    addr: &SocketAddr,
    deadline: Option<Instant>,
) -> io::Result<(TcpStream, Option<Duration>)> {
    use socket2::{Domain, Protocol, Socket, Type};
    if cancel::should_stop(false) {
        return Err(io::ErrorKind::Interrupted.into());
    }
    let socket = Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
    match socket.connect(&(*addr).into()) {
        Ok(()) => {}
        Err(e) if in_progress(&e) => {
            let mut ask = false;
            loop {
                if cancel::should_stop(ask) {
                    // Nothing was sent: the caller reports it as cancelled.
                    return Err(io::ErrorKind::Interrupted.into());
                }
                ask = true;
                let (until, _) = wait_until(deadline);
                let left = until.map(|until| until.saturating_duration_since(Instant::now()));
                if left.is_some_and(|left| left.is_zero()) {
                    if until == deadline {
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                    continue;
                }
                if wait::connected(&socket, left)? {
                    break;
                }
            }
            // Refused or unreachable shows as ready, with the reason here.
            if let Some(e) = socket.take_error()? {
                return Err(e);
            }
        }
        Err(e) => return Err(e),
    }
    socket.set_nonblocking(false)?;
    Ok((socket.into(), None))
}

/// Whether a non-blocking connect has started rather than failed.
#[cfg(not(target_os = "linux"))]
fn in_progress(error: &io::Error) -> bool {
    #[cfg(unix)]
    if error.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    error.kind() == io::ErrorKind::WouldBlock
}

/// Waiting for a connecting socket: `Ok(true)` when the handshake ended
/// (either way), `Ok(false)` when `wait` passed first (or a signal came).
#[cfg(not(target_os = "linux"))]
mod wait {
    use std::io;
    use std::time::Duration;

    #[cfg(unix)]
    pub(super) fn connected(socket: &socket2::Socket, wait: Option<Duration>) -> io::Result<bool> {
        use std::os::fd::AsRawFd;
        let mut pollfd = libc::pollfd {
            fd: socket.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        // Rounded up, so that a wait under a millisecond is not a spin.
        let ms = wait.map_or(-1, |w| {
            i32::try_from(w.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
        });
        // SAFETY: one valid `pollfd`, for the socket `socket` keeps open.
        let ready = unsafe { libc::poll(&mut pollfd, 1, ms) };
        match ready {
            -1 => match io::Error::last_os_error() {
                e if e.kind() == io::ErrorKind::Interrupted => Ok(false),
                e => Err(e),
            },
            0 => Ok(false),
            _ => Ok(true),
        }
    }

    #[cfg(windows)]
    pub(super) fn connected(socket: &socket2::Socket, wait: Option<Duration>) -> io::Result<bool> {
        use std::os::windows::io::AsRawSocket;
        use windows_sys::Win32::Networking::WinSock::{
            select, WSAGetLastError, FD_SET, SOCKET, SOCKET_ERROR, TIMEVAL,
        };
        let raw = socket.as_raw_socket() as SOCKET;
        let set = || {
            let mut set = FD_SET {
                fd_count: 1,
                fd_array: [0; 64],
            };
            set.fd_array[0] = raw;
            set
        };
        // Writable: connected; in the exception set: refused (select,
        // unlike WSAPoll before Windows 10 2004, reports a failed connect).
        let (mut writable, mut failed) = (set(), set());
        let timeval = wait.map(|w| TIMEVAL {
            tv_sec: i32::try_from(w.as_secs()).unwrap_or(i32::MAX),
            tv_usec: w.subsec_micros().max(1) as i32,
        });
        let timeout = timeval
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const TIMEVAL);
        // SAFETY: the sets and the timeout live across the call; the
        // socket is open (held by `socket`).
        let ready = unsafe { select(0, std::ptr::null_mut(), &mut writable, &mut failed, timeout) };
        if ready == SOCKET_ERROR {
            // SAFETY: reads this thread's last Winsock error.
            return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
        }
        Ok(ready > 0)
    }
}

/// When a wait must end: `None` for never (or beyond what a clock holds).
fn deadline(timeout: NextTimeout) -> Option<Instant> {
    if timeout.after.is_not_happening() {
        return None;
    }
    Instant::now().checked_add(*timeout.after)
}

/// When the next wait must end: the exchange's `deadline`, or sooner, at
/// the end of the cancel scope's slice (then `true`: a wait ending then is
/// no timeout, only a time to look at the scope).
fn wait_until(deadline: Option<Instant>) -> (Option<Instant>, bool) {
    let Some(slice) = cancel::slice() else {
        return (deadline, false);
    };
    let sliced = Instant::now() + slice;
    match deadline {
        Some(deadline) if deadline <= sliced => (Some(deadline), false),
        _ => (Some(sliced), true),
    }
}

/// A connected socket and `ureq`'s buffers for it.
pub(crate) struct Tcp {
    /// Shared with the cancel token of the request in flight, if any.
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    /// The socket's timeouts as last set (`None`: never set, no limit).
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Registered with the cancel scope of the request in flight.
    registration: Option<Registration>,
}

impl std::fmt::Debug for Tcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tcp")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

/// Makes sure that a wait on the socket ends by `deadline`, setting the
/// socket's timeout only when the one in place could outlast it (or is
/// both under a second and under half of what is left, so that waits do
/// not keep ending early).
/// `Err(Timeout)` when the deadline has passed.
///
/// The kernel ends a socket wait late by up to an eighth of its length (its
/// timer wheel rounds long timeouts up), so a wait is set to seven eighths
/// of what is left; what remains after it is waited for again, shorter.
fn fit_timeout(
    current: &mut Option<Duration>,
    deadline: Option<Instant>,
    reason: ureq::Timeout,
    set: impl FnOnce(Option<Duration>) -> io::Result<()>,
) -> Result<(), ureq::Error> {
    let Some(deadline) = deadline else {
        if current.is_some() {
            set(None)?;
            *current = None;
        }
        return Ok(());
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ureq::Error::Timeout(reason));
    }
    let longest = if left >= Duration::from_millis(8) {
        left / 8 * 7
    } else {
        left
    };
    // Shorter is safe, only not too much shorter: a wait that ends early
    // is waited for again, which costs a call per second of waiting at
    // most.
    if current.is_some_and(|c| c <= longest && (c * 2 >= left || c >= Duration::from_secs(1))) {
        return Ok(());
    }
    // In whole milliseconds below that, so that the next exchange (with
    // about as much time) can keep it.
    let wanted = if longest >= Duration::from_millis(2) {
        Duration::from_millis(longest.as_millis().saturating_sub(1) as u64)
    } else {
        longest
    };
    set(Some(wanted))?;
    *current = Some(wanted);
    Ok(())
}

/// Whether an I/O error only means that the socket's timeout ran out (or a
/// signal came): the caller tries again until its deadline.
fn retry(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

impl Tcp {
    /// Waits up to `wait` for the server to close its end (or send
    /// anything): no wait at all when it already has, as it usually has by
    /// the time its reply is read, or when the request was cancelled.
    pub(crate) fn await_close(&mut self, wait: Duration) {
        if peek_says_closed(&self.stream) || cancel::should_stop(false) {
            return;
        }
        if self.stream.set_read_timeout(Some(wait)).is_ok() {
            self.read_timeout = Some(wait);
            let _ = (&*self.stream).read(&mut [0u8; 1]);
        }
    }

    /// Registers the socket with the thread's cancel scope, if there is
    /// one and it is not registered with it yet (a kept connection serves
    /// requests of several scopes).
    fn follow_scope(&mut self) {
        if self
            .registration
            .as_ref()
            .is_some_and(Registration::is_current)
        {
            return;
        }
        self.registration = cancel::register(&self.stream);
    }
}

impl Transport for Tcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.follow_scope();
        let timeout = timeout.for_write();
        let deadline = deadline(timeout);
        let mut sent = 0;
        let mut ask = false;
        while sent < amount {
            if cancel::should_stop(ask) {
                return Err(Cancelled::error(sent > 0));
            }
            let (until, sliced) = wait_until(deadline);
            let stream = &self.stream;
            match fit_timeout(&mut self.write_timeout, until, timeout.reason, |t| {
                stream.set_write_timeout(t)
            }) {
                Err(ureq::Error::Timeout(_)) if sliced => {
                    ask = true;
                    continue;
                }
                other => other?,
            }
            match (&*self.stream).write(&self.buffers.output()[sent..amount]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => sent += n,
                Err(e) if retry(&e) => ask = true,
                Err(_) if cancel::should_stop(false) => return Err(Cancelled::error(true)),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.follow_scope();
        let timeout = timeout.for_read();
        let deadline = deadline(timeout);
        let mut ask = false;
        loop {
            if cancel::should_stop(ask) {
                return Err(Cancelled::error(true));
            }
            let (until, sliced) = wait_until(deadline);
            let stream = &self.stream;
            match fit_timeout(&mut self.read_timeout, until, timeout.reason, |t| {
                stream.set_read_timeout(t)
            }) {
                Err(ureq::Error::Timeout(_)) if sliced => {
                    ask = true;
                    continue;
                }
                other => other?,
            }
            match (&*self.stream).read(self.buffers.input_append_buf()) {
                // A socket shut down by a cancel reads as closed.
                Ok(0) | Err(_) if cancel::should_stop(false) => return Err(Cancelled::error(true)),
                Ok(n) => {
                    self.buffers.input_appended(n);
                    return Ok(n > 0);
                }
                Err(e) if retry(&e) => ask = true,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Open, with nothing unasked-for waiting to be read: one peek that
    /// does not wait.
    fn is_open(&mut self) -> bool {
        peek_says_open(&self.stream)
    }
}

#[cfg(unix)]
fn peek_says_open(stream: &TcpStream) -> bool {
    let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
    let peeked = socket2::SockRef::from(stream)
        .recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT);
    // Nothing to read yet is the only healthy answer: 0 is the server's
    // close, and bytes nobody asked for (a second reply) spoil the
    // connection.
    matches!(peeked, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Whether the peer has closed its end already (a peek that does not wait
/// reads the end of the stream).
#[cfg(unix)]
fn peek_says_closed(stream: &TcpStream) -> bool {
    let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
    let peeked = socket2::SockRef::from(stream)
        .recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT);
    matches!(peeked, Ok(0))
}

#[cfg(not(unix))]
fn peek_says_closed(_stream: &TcpStream) -> bool {
    false
}

#[cfg(not(unix))]
fn peek_says_open(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8];
    let open = matches!(stream.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    stream.set_nonblocking(false).is_ok() && open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_in_place_is_kept_while_it_fits() {
        let mut current = None;
        let mut sets = Vec::new();
        // Fits the socket's timeout to `secs` left; returns what was set.
        let mut fit = |secs: u64| {
            let deadline = Some(Instant::now() + Duration::from_secs(secs));
            let before = sets.len();
            fit_timeout(&mut current, deadline, ureq::Timeout::Global, |t| {
                sets.push(t);
                Ok(())
            })
            .unwrap();
            (sets.len() > before).then(|| sets[before].unwrap())
        };
        // Seven eighths of what is left: the kernel may end it an eighth late.
        let set = fit(10).expect("set");
        assert!(set <= Duration::from_millis(8_750) && set >= Duration::from_millis(8_740));
        // The next exchange, with as much time: kept.
        assert_eq!(fit(10), None);
        // Less time left than the socket would wait: set again, shorter.
        assert!(fit(1).expect("set") <= Duration::from_millis(875));
        // Much more time than a short timeout would wait: set again, longer.
        assert!(fit(30).expect("set") > Duration::from_secs(26));
        assert!(fit(3).expect("set") <= Duration::from_millis(2_625));
        // Much more time than a timeout of a second or more: kept (a wait
        // that ends early is repeated).
        assert_eq!(fit(100), None);
    }

    #[test]
    fn a_passed_deadline_is_a_timeout_and_no_deadline_clears_the_socket() {
        let mut current = Some(Duration::from_secs(1));
        let passed = Some(Instant::now() - Duration::from_millis(1));
        let result = fit_timeout(&mut current, passed, ureq::Timeout::Global, |_| Ok(()));
        assert!(matches!(result, Err(ureq::Error::Timeout(_))));
        let mut cleared = false;
        fit_timeout(&mut current, None, ureq::Timeout::Global, |t| {
            cleared = t.is_none();
            Ok(())
        })
        .unwrap();
        assert!(cleared && current.is_none());
    }

    #[test]
    fn the_peek_tells_open_closed_and_spoiled_connections_apart() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        assert!(peek_says_open(&client), "idle and open");
        server.write_all(b"x").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(!peek_says_open(&client), "bytes nobody asked for");
        let client = TcpStream::connect(addr).unwrap();
        let (server, _) = listener.accept().unwrap();
        drop(server);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!peek_says_open(&client), "closed by the server");
    }
}
