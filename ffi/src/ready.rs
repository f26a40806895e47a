//! How an agent announces that events are waiting, for programs that wait
//! in an event loop rather than in `httpqq_agent_next_event` (the model is
//! librdkafka's `rd_kafka_queue_io_event_enable` and
//! `rd_kafka_queue_cb_event_enable`): by writing to a file descriptor the
//! caller gives, and by calling the caller's function. Both happen when
//! events become waiting (core's edge-triggered `AgentBuilder::on_event`),
//! on the thread that queued them.

use std::ffi::c_void;

/// Called when events become waiting for an agent (see
/// `httpqq_agent_options_set_event_callback`), on one of the library's
/// threads (or the thread of a call into the agent that queued events).
/// It must return quickly, must not block, must not call into the agent,
/// and must not unwind (`longjmp`, a C++ exception).
#[allow(non_camel_case_types)]
pub type httpqq_ready_callback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// What an agent announces its events with.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Announce {
    /// A file descriptor to write an 8-byte 1 to (a pipe's or an eventfd).
    pub(crate) fd: Option<i32>,
    pub(crate) callback: Option<(unsafe extern "C" fn(*mut c_void), UserData)>,
}

/// The caller's `user_data`, handed back to its callback on the library's
/// threads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: the library only passes the pointer back to the caller's
// callback, on its own threads; the header tells the caller so
// (`httpqq_agent_options_set_event_callback`), who makes it fit for that.
unsafe impl Send for UserData {}
// SAFETY: as above; the library never reads through the pointer.
unsafe impl Sync for UserData {}

impl Announce {
    /// The function core calls when events become waiting, if anything is
    /// to be announced.
    pub(crate) fn notifier(self) -> Option<impl Fn() + Send + Sync + 'static> {
        if self.fd.is_none() && self.callback.is_none() {
            return None;
        }
        Some(move || {
            if let Some(fd) = self.fd {
                wake_fd(fd);
            }
            if let Some((callback, user_data)) = self.callback {
                // SAFETY: the caller gave this function and pointer for
                // this call, on the terms of `httpqq_ready_callback`.
                unsafe { callback(user_data.0) };
            }
        })
    }
}

/// Writes an 8-byte 1 to `fd` (what an eventfd takes; a pipe takes any
/// bytes) without ever blocking or raising `SIGPIPE`: nothing is written
/// when the descriptor is full (a wake-up is pending already), closed at
/// the other end, or not open.
#[cfg(unix)]
fn wake_fd(fd: i32) {
    let mut pollfd = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid `pollfd`, and no wait.
    let ready = unsafe { libc::poll(&mut pollfd, 1, 0) };
    let broken = libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;
    if ready != 1 || pollfd.revents & broken != 0 || pollfd.revents & libc::POLLOUT == 0 {
        return;
    }
    let one = 1u64.to_ne_bytes();
    without_sigpipe(|| {
        // SAFETY: writes 8 bytes from a live buffer of 8; a failure (the
        // reader gone since the poll) is of no consequence.
        unsafe { libc::write(fd, one.as_ptr().cast(), one.len()) };
    });
}

#[cfg(not(unix))]
fn wake_fd(_fd: i32) {}

/// Runs `write` with `SIGPIPE` blocked on this thread, and takes back the
/// `SIGPIPE` it raised if any: a program that did not ignore the signal
/// would die of a reader that closed its end.
#[cfg(unix)]
fn without_sigpipe(write: impl FnOnce()) {
    // SAFETY: the signal sets are initialised by `sigemptyset` before use;
    // the calls only change and read this thread's mask and pending set.
    unsafe {
        let mut pipe: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pipe);
        libc::sigaddset(&mut pipe, libc::SIGPIPE);
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &pipe, &mut old);
        let pending_before = sigpipe_pending();
        write();
        if !pending_before && sigpipe_pending() {
            // Ours: take it (it is pending, so this does not wait).
            let mut taken = 0;
            libc::sigwait(&pipe, &mut taken);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// Whether a `SIGPIPE` is pending for this thread (or the process).
#[cfg(unix)]
fn sigpipe_pending() -> bool {
    // SAFETY: `sigpending` fills the set it is given.
    unsafe {
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pending);
        libc::sigpending(&mut pending);
        libc::sigismember(&pending, libc::SIGPIPE) == 1
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn pipe() -> (i32, i32) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        (fds[0], fds[1])
    }

    fn readable(fd: i32) -> usize {
        let mut bytes = 0;
        // SAFETY: FIONREAD writes an int.
        unsafe { libc::ioctl(fd, libc::FIONREAD, &mut bytes) };
        bytes as usize
    }

    #[test]
    fn a_wake_up_writes_eight_bytes_and_never_blocks_on_a_full_pipe() {
        let (read, write) = pipe();
        wake_fd(write);
        assert_eq!(readable(read), 8);
        // A blocking pipe filled to the brim: further wake-ups return.
        // SAFETY: F_SETFL on our own descriptor.
        unsafe { libc::fcntl(write, libc::F_SETFL, libc::O_NONBLOCK) };
        let chunk = [0u8; 4096];
        // SAFETY: writes from a live buffer until the pipe is full.
        while unsafe { libc::write(write, chunk.as_ptr().cast(), chunk.len()) } > 0 {}
        // SAFETY: back to blocking, as a careless caller might leave it.
        unsafe { libc::fcntl(write, libc::F_SETFL, 0) };
        let full = readable(read);
        wake_fd(write);
        assert_eq!(readable(read), full);
        // SAFETY: our own descriptors.
        unsafe {
            libc::close(read);
            libc::close(write);
        }
    }

    #[test]
    fn a_wake_up_to_a_pipe_nobody_reads_raises_no_sigpipe() {
        let (read, write) = pipe();
        // SAFETY: our own descriptor.
        unsafe { libc::close(read) };
        // SIGPIPE at its default, as in a C program: a stray one kills the
        // test process (Rust's runtime ignores it).
        // SAFETY: sets the disposition back below.
        let before = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        wake_fd(write);
        without_sigpipe(|| {
            // SAFETY: a write to the broken pipe, as in a race with the
            // reader closing between the poll and the write.
            let wrote = unsafe { libc::write(write, [1u8].as_ptr().cast(), 1) };
            assert_eq!(wrote, -1);
        });
        assert!(!sigpipe_pending());
        // SAFETY: restores the disposition taken above; closes our own
        // descriptor.
        unsafe {
            libc::signal(libc::SIGPIPE, before);
            libc::close(write);
        }
    }
}
