//! The agent: a logged-in account that stays up (polls, backs off, observes
//! penalties, logs in again) and reports what happens as events, read one
//! at a time or through a callback. The loop itself is core's
//! `httpqq::Agent`; this module converts types.

use crate::boundary::{free_handle, into_handle, run, run_out, text, try_ref, with, CText};
use crate::client::httpqq_client;
use crate::millis;
use crate::model::httpqq_message;
use crate::ready::{httpqq_ready_callback, Announce, UserData};
use crate::status::{httpqq_error, httpqq_status, FfiError};
use httpqq::{
    Agent, AgentBuilder, Backoff, Event, EventKind, NoEvent, Outcome, SendPace, State, Uin,
};
use std::ffi::{c_char, c_void};
use std::time::Duration;

/// What an event reports, as `httpqq_event_get_kind` gives it.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum httpqq_event_kind {
    /// The agent is online (its first request succeeded, or one did after
    /// failures or a penalty).
    Online = 1,
    /// A request failed for a reason that may pass; the agent retries in
    /// `httpqq_event_delay_ms` (attempt `httpqq_event_attempt`; what failed:
    /// `httpqq_event_error_status` and `_error_message`).
    Reconnecting = 2,
    /// The server answered `RES=3`: the agent sends nothing for
    /// `httpqq_event_delay_ms`.
    Throttled = 3,
    /// The server had ended the session (`RES=20`); the agent logged in
    /// again.
    SessionRenewed = 4,
    /// An incoming message: `httpqq_event_message`.
    Message = 5,
    /// The agent stopped; its last event. `httpqq_event_error_status` is
    /// `HTTPQQ_STATUS_OK` when it was asked to, else why it stopped (e.g.
    /// `HTTPQQ_STATUS_LOGIN_FAILED`, with `httpqq_event_reason`).
    Stopped = 6,
}

/// Where an agent is, as `httpqq_agent_get_state` gives it.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum httpqq_agent_state {
    /// Started, not yet heard from the server.
    Connecting = 0,
    /// The last request succeeded.
    Online = 1,
    /// Retrying after failures, with backoff.
    Reconnecting = 2,
    /// Waiting out a `RES=3` penalty.
    Throttled = 3,
    /// Done.
    Stopped = 4,
}

/// Settings for `httpqq_agent_start`, made by `httpqq_agent_options_new`.
/// Free with `httpqq_agent_options_free`. Not for use from several threads
/// at once.
pub struct httpqq_agent_options {
    /// What the caller set; what it did not set stays core's default.
    poll_interval: Option<Duration>,
    backoff: Backoff,
    penalty: Option<Duration>,
    relogin: Option<bool>,
    logout_on_stop: Option<bool>,
    stop_timeout: Option<Duration>,
    /// `Some(None)`: pace turned off.
    send_pace: Option<Option<SendPace>>,
    throttle_retries: Option<u32>,
    inbox: Option<std::path::PathBuf>,
    announce: Announce,
}

/// A logged-in account that stays up, made by `httpqq_agent_start`. Safe
/// to use from several threads at once (one thread reading events, others
/// sending or stopping it). Free with `httpqq_agent_free`.
pub struct httpqq_agent {
    agent: Agent,
}

/// One event of an agent. Owned by the caller of `httpqq_agent_next_event`
/// (free it with `httpqq_event_free`); borrowed for the call only in an
/// `httpqq_agent_run` callback.
pub struct httpqq_event {
    uin: u64,
    kind: u32,
    message: Option<httpqq_message>,
    attempt: u32,
    delay: Duration,
    error_status: httpqq_status,
    error_message: Option<CText>,
    reason: Option<CText>,
    outcome: Outcome,
}

impl httpqq_event {
    fn new(event: Event) -> Self {
        let mut out = httpqq_event {
            uin: event.uin.get(),
            kind: event.kind.code(),
            message: None,
            attempt: 0,
            delay: Duration::ZERO,
            error_status: httpqq_status::Ok,
            error_message: None,
            reason: None,
            outcome: Outcome::Accepted,
        };
        let failed = |out: &mut httpqq_event, err: httpqq::Error| {
            out.error_message = Some(CText::new(&err.to_string()));
            if let httpqq::Error::LoginFailed { reason } = &err {
                out.reason = Some(CText::new(reason));
            }
            out.outcome = err.outcome();
            out.error_status = FfiError::Core(err).status();
        };
        match event.kind {
            EventKind::Online => {}
            EventKind::Reconnecting {
                attempt,
                retry_in,
                error,
            } => {
                out.attempt = attempt;
                out.delay = retry_in;
                failed(&mut out, error);
            }
            EventKind::Throttled { retry_after } => {
                out.delay = retry_after;
            }
            EventKind::SessionRenewed => {}
            EventKind::Message(message) => {
                out.message = Some(httpqq_message::new(message));
            }
            EventKind::Stopped(reason) => {
                if let Some(err) = reason.error() {
                    failed(&mut out, err);
                }
            }
            // A kind added to the core later: reported as its state.
            _ => {}
        }
        out
    }
}

/// Called by `httpqq_agent_run` for each event, oldest first, on the
/// calling thread; `event` is borrowed for the call only. Return 0 to go
/// on, nonzero to return from `httpqq_agent_run` at once (the agent keeps
/// running, and the events after this one wait for the next call).
#[allow(non_camel_case_types)]
pub type httpqq_event_callback =
    Option<unsafe extern "C" fn(event: *const httpqq_event, user_data: *mut c_void) -> i32>;

/// Makes agent settings with core's defaults (each setter says its own):
/// poll every 5000 ms (and as often as the session needs to stay alive),
/// backoff from 1000 ms doubling to 30000 ms with ±20% jitter, the
/// server's own penalty after `RES=3` (20 s) and 3 retries of a send it
/// refused, at most 90 sends in any 10 s, re-login on, a stop within
/// 100 ms, no inbox, no announcements.
///
/// The caller owns the options and frees them with
/// `httpqq_agent_options_free`.
#[no_mangle]
pub extern "C" fn httpqq_agent_options_new() -> *mut httpqq_agent_options {
    into_handle(httpqq_agent_options {
        poll_interval: None,
        backoff: Backoff::default(),
        penalty: None,
        relogin: None,
        logout_on_stop: None,
        stop_timeout: None,
        send_pace: None,
        throttle_retries: None,
        inbox: None,
        announce: Announce::default(),
    })
}

/// Frees agent settings; NULL is a no-op.
///
/// # Safety
/// `options` is NULL or options from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_free(options: *mut httpqq_agent_options) {
    free_handle(options)
}

/// Changes agent settings.
fn update(
    options: *mut httpqq_agent_options,
    error: *mut httpqq_error,
    change: impl FnOnce(&mut httpqq_agent_options),
) -> i32 {
    run(error, || {
        let options = crate::boundary::try_mut(options, "options")?;
        change(options);
        Ok(())
    })
}

/// Sets how often to poll while no messages come, in milliseconds (at
/// least 100: `httpqq_agent_start` refuses less).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_poll_interval_ms(
    options: *mut httpqq_agent_options,
    milliseconds: u64,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| {
        o.poll_interval = Some(Duration::from_millis(milliseconds))
    })
}

/// Sets how long the first retry after a transient failure waits, in
/// milliseconds (default 1000; more than 0 and at most the backoff's
/// maximum: checked by `httpqq_agent_start`).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_backoff_initial_ms(
    options: *mut httpqq_agent_options,
    milliseconds: u64,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| {
        o.backoff.initial = Duration::from_millis(milliseconds)
    })
}

/// Sets the longest a retry after transient failures waits, in
/// milliseconds (default 30000; checked by `httpqq_agent_start`).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_backoff_max_ms(
    options: *mut httpqq_agent_options,
    milliseconds: u64,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| {
        o.backoff.max = Duration::from_millis(milliseconds)
    })
}

/// Sets how long the agent sends nothing after `RES=3`, in milliseconds
/// (default: the original server's penalty, 20 000; 30 000 after
/// DelFromList).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_throttle_penalty_ms(
    options: *mut httpqq_agent_options,
    milliseconds: u64,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| {
        o.penalty = Some(Duration::from_millis(milliseconds))
    })
}

/// Turns re-login after `RES=20` on (the default) or off (then `RES=20`
/// stops the agent with `HTTPQQ_STATUS_NOT_LOGGED_IN`).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_relogin(
    options: *mut httpqq_agent_options,
    on: bool,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| o.relogin = Some(on))
}

/// Turns the logout when the agent stops on (the default) or off (then
/// the session stays on the server until its idle timeout, e.g. for a
/// process that hands it over to another).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_logout_on_stop(
    options: *mut httpqq_agent_options,
    on: bool,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| o.logout_on_stop = Some(on))
}

/// Sets how long a stop takes at most, in milliseconds (default 100),
/// whatever the agent is doing and the server does: a request in flight
/// may finish within the first half, then is cut short, and the logout gets
/// what is left. Raise it for a server far away.
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_stop_timeout_ms(
    options: *mut httpqq_agent_options,
    milliseconds: u64,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| {
        o.stop_timeout = Some(Duration::from_millis(milliseconds))
    })
}

/// Sets how fast `httpqq_agent_send` sends: at most `count` messages in
/// any `window_ms` milliseconds (default 90 in 10 000, under the server's
/// 100 per 10 s); a send waits for its turn. `count` 0 turns pacing off
/// (sends go as fast as the caller sends).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_send_pace(
    options: *mut httpqq_agent_options,
    count: u32,
    window_ms: u64,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| {
        o.send_pace = Some((count > 0).then(|| SendPace {
            count,
            window: Duration::from_millis(window_ms),
        }))
    })
}

/// Sets how often `httpqq_agent_send` sends a message again after the
/// server refused it for a penalty (`RES=3`: it was not delivered), each
/// time after waiting the penalty out (default 3). 0 makes such a send
/// fail at once with `HTTPQQ_STATUS_THROTTLED`, as does a send during a
/// penalty.
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_throttle_retries(
    options: *mut httpqq_agent_options,
    retries: u32,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| o.throttle_retries = Some(retries))
}

/// Keeps every message the agent fetches in the SQLite file at `path`
/// (UTF-8; created if there is none) from before it is handed out until
/// the caller is done with it: when it takes the next event, when the
/// `httpqq_agent_run` callback returns, or at `httpqq_agent_ack`. The next
/// agent for the same UIN on the same file hands out what was left first,
/// oldest first: a crash or a kill of the program loses no message. At
/// least once: the message in hand when the program stopped comes again.
/// One process uses a file at a time (`httpqq_agent_start` fails with
/// `HTTPQQ_STATUS_INVALID_CONFIG` naming the holder); its agents share it,
/// one per UIN. NULL turns the inbox off (the default).
///
/// # Safety
/// `options` is NULL or live options; `path` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_inbox(
    options: *mut httpqq_agent_options,
    path: *const c_char,
    error: *mut httpqq_error,
) -> i32 {
    run(error, || {
        let path = match path.is_null() {
            true => None,
            false => Some(std::path::PathBuf::from(text(path, "path")?)),
        };
        let options = crate::boundary::try_mut(options, "options")?;
        options.inbox = path;
        Ok(())
    })
}

/// Sets how much longer each retry in a row waits than the one before
/// (at least 1; checked by `httpqq_agent_start`).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_backoff_factor(
    options: *mut httpqq_agent_options,
    factor: f64,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| o.backoff.factor = factor)
}

/// Sets the fraction by which a retry's delay moves at random either way,
/// so that many clients do not retry in step (from 0 to 1; checked by
/// `httpqq_agent_start`).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_backoff_jitter(
    options: *mut httpqq_agent_options,
    jitter: f64,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| o.backoff.jitter = jitter)
}

/// Makes the agent announce that events are waiting by writing to `fd`
/// (the write end of a pipe, or an eventfd), so that an event loop can
/// wait on the other end instead of a thread waiting in
/// `httpqq_agent_next_event`: each time events become waiting (none were),
/// it writes the 8 bytes of a 1 (`uint64_t`). When the descriptor is
/// readable, read what is there, then take events with
/// `httpqq_agent_next_event(agent, 0, ...)` until it gives none, and the
/// results of started sends with `httpqq_agent_take_sent` likewise; then
/// wait again. (Events and results each announce themselves when their
/// queue gets its first: a queue left unread is not announced again. A
/// wake-up may find nothing: what it announced came between the read and
/// the takes of the round before, and was taken then.) The write never
/// blocks (nothing is written to a full descriptor: a wake-up is pending)
/// and never raises `SIGPIPE`. The caller keeps the descriptor open while
/// the agent lives and closes it after `httpqq_agent_free`. A negative
/// `fd` turns it off.
///
/// Not on Windows (`HTTPQQ_STATUS_INVALID_ARGUMENT`): there, use
/// `httpqq_agent_options_set_event_callback` (and from it, say, `SetEvent`
/// or `PostQueuedCompletionStatus`).
///
/// # Safety
/// `options` is NULL or live options.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_event_fd(
    options: *mut httpqq_agent_options,
    fd: i32,
    error: *mut httpqq_error,
) -> i32 {
    run(error, || {
        if fd >= 0 && cfg!(not(unix)) {
            return Err(FfiError::InvalidArgument(
                "no file descriptors to announce events with on Windows: use httpqq_agent_options_set_event_callback".into(),
            ));
        }
        let options = crate::boundary::try_mut(options, "options")?;
        options.announce.fd = (fd >= 0).then_some(fd);
        Ok(())
    })
}

/// Makes the agent announce that events are waiting by calling
/// `callback(user_data)` each time events become waiting (none were), on
/// one of the library's threads (or the thread of a call into the agent
/// that queued events). The callback must return quickly, must not block
/// and must not call into the agent: it wakes the program's own loop (a
/// `uv_async_send`, a `SetEvent`, a write to a pipe, a condition
/// variable), which then takes events with
/// `httpqq_agent_next_event(agent, 0, ...)` until it gives none. The
/// library passes `user_data` back untouched; it must stay valid until
/// `httpqq_agent_free` returns. NULL turns it off. Works everywhere,
/// Windows included.
///
/// # Safety
/// `options` is NULL or live options; `callback` is NULL or a function of
/// that type, callable from any thread.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_options_set_event_callback(
    options: *mut httpqq_agent_options,
    callback: httpqq_ready_callback,
    user_data: *mut c_void,
    error: *mut httpqq_error,
) -> i32 {
    update(options, error, |o| {
        o.announce.callback = callback.map(|f| (f, UserData(user_data)))
    })
}

impl httpqq_agent_options {
    fn apply(&self, builder: AgentBuilder) -> AgentBuilder {
        let mut builder = builder.backoff(self.backoff);
        if let Some(notify) = self.announce.notifier() {
            builder = builder.on_event(notify);
        }
        if let Some(pace) = self.send_pace {
            builder = builder.send_pace(pace);
        }
        if let Some(times) = self.throttle_retries {
            builder = builder.throttle_retries(times);
        }
        if let Some(path) = &self.inbox {
            builder = builder.inbox(path.clone());
        }
        if let Some(limit) = self.stop_timeout {
            builder = builder.stop_timeout(limit);
        }
        if let Some(every) = self.poll_interval {
            builder = builder.poll_interval(every);
        }
        if let Some(on) = self.relogin {
            builder = builder.relogin(on);
        }
        if let Some(on) = self.logout_on_stop {
            builder = builder.logout_on_stop(on);
        }
        match self.penalty {
            Some(penalty) => builder.throttle_penalty(penalty),
            None => builder,
        }
    }
}

/// Starts an agent for `uin` with its password (UTF-8; only its MD5 is
/// kept): it logs in on its own threads and runs until stopped. A refused
/// login is not an error here: it is the agent's `HTTPQQ_EVENT_KIND_STOPPED`
/// event, with the server's reason. `options` may be NULL (the defaults);
/// the agent copies them.
///
/// On success the caller owns `*agent_out` and frees it with
/// `httpqq_agent_free`. `HTTPQQ_STATUS_INVALID_CONFIG` for settings that
/// cannot be used (a poll interval under 100 ms, say).
///
/// # Safety
/// `client` is NULL or a live client; `password` is NULL or a
/// NUL-terminated string; `options` is NULL or live options; `agent_out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_start(
    client: *const httpqq_client,
    uin: u64,
    password: *const c_char,
    options: *const httpqq_agent_options,
    agent_out: *mut *mut httpqq_agent,
    error: *mut httpqq_error,
) -> i32 {
    run_out(agent_out, error, || {
        let client = try_ref(client, "client")?;
        let password = text(password, "password")?;
        let mut builder = Agent::builder(client.client(), Uin::new(uin), password);
        if let Some(options) = crate::boundary::optional_ref(options) {
            builder = options.apply(builder);
        }
        Ok(into_handle(httpqq_agent {
            agent: builder.start()?,
        }))
    })
}

/// Stops the agent (as `httpqq_agent_stop`), waits until it has finished
/// (within the stop timeout, 100 ms unless set) and frees it; NULL is a
/// no-op. Messages it fetched that were not taken wait in its inbox for
/// the next agent, or are lost without one (`httpqq_agent_undelivered`
/// says how many; the log says so too).
///
/// # Safety
/// `agent` is NULL or an agent from this library, not freed yet and not
/// in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_free(agent: *mut httpqq_agent) {
    with(agent, (), |handle| {
        handle.agent.stop();
        handle.agent.wait_stopped(Duration::from_secs(24 * 3600));
    });
    free_handle(agent)
}

/// The agent's UIN; 0 for NULL.
///
/// # Safety
/// `agent` is NULL or a live agent.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_uin(agent: *const httpqq_agent) -> u64 {
    with(agent, 0, |a| a.agent.uin().get())
}

/// Where the agent is now, an `httpqq_agent_state`;
/// `HTTPQQ_AGENT_STATE_STOPPED` for NULL.
///
/// # Safety
/// `agent` is NULL or a live agent.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_get_state(agent: *const httpqq_agent) -> u32 {
    with(agent, State::Stopped, |a| a.agent.state()).code()
}

/// Waits at most `timeout_ms` milliseconds for the agent's next event (0:
/// only look), for callers that cannot take callbacks.
///
/// Returns `HTTPQQ_STATUS_OK` and writes the event to `*event_out` (the
/// caller owns it and frees it with `httpqq_event_free`), or NULL when none
/// came in time. Returns `HTTPQQ_STATUS_STOPPED` once the agent has stopped
/// and its last event was taken. Taking an event says the caller is done
/// with the message taken before (see `httpqq_agent_ack`).
///
/// # Safety
/// `agent` is NULL or a live agent; `event_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_next_event(
    agent: *const httpqq_agent,
    timeout_ms: u64,
    event_out: *mut *mut httpqq_event,
    error: *mut httpqq_error,
) -> i32 {
    run_out(event_out, error, || {
        let agent = &try_ref(agent, "agent")?.agent;
        match agent.next_event_timeout(Duration::from_millis(timeout_ms)) {
            Ok(event) => Ok(into_handle(httpqq_event::new(event))),
            Err(NoEvent::Timeout) => Ok(std::ptr::null_mut()),
            Err(NoEvent::Finished) => Err(httpqq::Error::Stopped.into()),
        }
    })
}

/// Calls `callback` for each event of the agent, oldest first, on the
/// calling thread, blocking in between.
///
/// Returns `HTTPQQ_STATUS_OK` as soon as the callback returns nonzero (the
/// agent keeps running; later events wait for the next call), or after
/// delivering the agent's `HTTPQQ_EVENT_KIND_STOPPED` event: then
/// `HTTPQQ_STATUS_OK` when it was asked to stop, else why it stopped (e.g.
/// `HTTPQQ_STATUS_LOGIN_FAILED`). `HTTPQQ_STATUS_STOPPED` if it had
/// stopped and delivered everything before the call.
///
/// The callback must not unwind (e.g. `longjmp`, or a C++ exception) out
/// of this call: catch inside it and return nonzero.
///
/// # Safety
/// `agent` is NULL or a live agent; `callback` is NULL or a function of
/// that type; `user_data` is whatever the callback expects.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_run(
    agent: *const httpqq_agent,
    callback: httpqq_event_callback,
    user_data: *mut c_void,
    error: *mut httpqq_error,
) -> i32 {
    run(error, || {
        let agent = &try_ref(agent, "agent")?.agent;
        let callback = callback.ok_or_else(|| crate::boundary::null("callback"))?;
        loop {
            let Some(event) = agent.next_event() else {
                return Err(httpqq::Error::Stopped.into());
            };
            let stopped = match &event.kind {
                EventKind::Stopped(reason) => Some(reason.error()),
                _ => None,
            };
            let event = httpqq_event::new(event);
            // SAFETY: the caller's promise about the callback; `event` lives
            // across the call.
            let stop = unsafe { callback(&event, user_data) } != 0;
            // The callback returned: it is done with the message.
            agent.ack();
            match stopped {
                Some(Some(err)) => return Err(err.into()),
                Some(None) => return Ok(()),
                None if stop => return Ok(()),
                None => {}
            }
        }
    })
}

/// Says the caller is done with the messages it took so far (with
/// `httpqq_agent_next_event`): with an inbox they are forgotten from it
/// (else nothing happens). Taking the next event does this too; call it
/// after handling the last message before a stop. NULL is a no-op.
///
/// # Safety
/// `agent` is NULL or a live agent.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_ack(agent: *const httpqq_agent) {
    with(agent, (), |a| a.agent.ack())
}

/// How many messages the agent fetched that were not taken yet: dropped
/// when it is freed, unless it has an inbox (where they wait for the next
/// agent). 0 for NULL.
///
/// # Safety
/// `agent` is NULL or a live agent.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_undelivered(agent: *const httpqq_agent) -> u64 {
    with(agent, 0, |a| a.agent.undelivered() as u64)
}

/// Stops the agent; returns at once. Idempotent, and safe from any thread,
/// but not from a signal handler (set a flag there, and call this from your
/// loop). The agent has stopped within the stop timeout (100 ms unless
/// set): a request in flight may finish in the first half, then is cut
/// short (a send cut short fails with `HTTPQQ_STATUS_CANCELLED`); the agent
/// logs out in what is left if the server answered its last request. Its
/// events can still be taken; the last is `HTTPQQ_EVENT_KIND_STOPPED`.
///
/// # Safety
/// `agent` is NULL or a live agent.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_stop(agent: *const httpqq_agent) {
    with(agent, (), |a| a.agent.stop())
}

/// Waits at most `timeout_ms` milliseconds for the agent to finish (after
/// `httpqq_agent_stop`, or a refused login); whether it has. False for
/// NULL.
///
/// # Safety
/// `agent` is NULL or a live agent.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_wait_stopped(
    agent: *const httpqq_agent,
    timeout_ms: u64,
) -> bool {
    with(agent, false, |a| {
        a.agent.wait_stopped(Duration::from_millis(timeout_ms))
    })
}

/// Sends `text` (UTF-8) to `target` on the calling thread, and writes what
/// became of it to `*outcome_out` (an `httpqq_outcome`) whenever the
/// arguments were usable, success or not: `HTTPQQ_OUTCOME_ACCEPTED` with
/// `HTTPQQ_STATUS_OK`; `HTTPQQ_OUTCOME_REFUSED` when it was certainly not
/// carried out (a result code such as `HTTPQQ_STATUS_THROTTLED`, a penalty
/// still running, a server that could not be reached, a stopped agent:
/// `HTTPQQ_STATUS_STOPPED`); `HTTPQQ_OUTCOME_UNKNOWN` when it was sent but
/// no reply came (it may have been delivered: such a message is never
/// sent again by itself). Sends keep the agent's pace
/// (`httpqq_agent_options_set_send_pace`); a send during a penalty waits
/// for its end, and one refused with `RES=3` is sent again after the
/// penalty (`httpqq_agent_options_set_throttle_retries`). A send before
/// the agent's first login, or while it logs in again, waits for the login
/// at most the client's timeout (else `HTTPQQ_STATUS_NOT_ONLINE`); one
/// refused with `RES=20` makes the agent log in again and is sent again
/// after the login.
///
/// # Safety
/// `agent` is NULL or a live agent; `message` is NULL or a NUL-terminated
/// string; `outcome_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_send(
    agent: *const httpqq_agent,
    target: u64,
    message: *const c_char,
    outcome_out: *mut u32,
    error: *mut httpqq_error,
) -> i32 {
    run(error, || {
        if outcome_out.is_null() {
            return Err(crate::boundary::null("outcome_out").into());
        }
        let agent = &try_ref(agent, "agent")?.agent;
        let message = text(message, "message")?;
        let result = agent.send(Uin::new(target), message);
        let outcome = Outcome::of(&result).code();
        crate::boundary::write_out(outcome_out, outcome);
        Ok(result?)
    })
}

/// Starts sending `text` (UTF-8) to `target` and returns at once, writing
/// the send's id to `*send_id_out` (from 1, per agent). Its result waits
/// for `httpqq_agent_take_sent`, and is announced like events (see
/// `httpqq_agent_options_set_event_fd`): for programs that wait in an
/// event loop and must not block, nor hold a thread per send. The send is
/// `httpqq_agent_send`'s: paced, waiting out penalties and the login.
/// Every started send has its result by the time the agent's
/// `HTTPQQ_EVENT_KIND_STOPPED` event comes.
///
/// # Safety
/// `agent` is NULL or a live agent; `message` is NULL or a NUL-terminated
/// string; `send_id_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_start_send(
    agent: *const httpqq_agent,
    target: u64,
    message: *const c_char,
    send_id_out: *mut u64,
    error: *mut httpqq_error,
) -> i32 {
    run_out(send_id_out, error, || {
        let agent = &try_ref(agent, "agent")?.agent;
        let message = text(message, "message")?;
        Ok(agent.start_send(Uin::new(target), message).get())
    })
}

/// What became of a send started with `httpqq_agent_start_send`: read it
/// with the `httpqq_sent_` functions, free it with `httpqq_sent_free`.
pub struct httpqq_sent {
    id: u64,
    status: httpqq_status,
    outcome: Outcome,
    message: Option<CText>,
    retry_after: Duration,
}

/// Takes the result of a send started with `httpqq_agent_start_send`,
/// oldest first, without waiting: writes it to `*sent_out` (the caller owns
/// it and frees it with `httpqq_sent_free`), or NULL when none is waiting.
///
/// # Safety
/// `agent` is NULL or a live agent; `sent_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_agent_take_sent(
    agent: *const httpqq_agent,
    sent_out: *mut *mut httpqq_sent,
    error: *mut httpqq_error,
) -> i32 {
    run_out(sent_out, error, || {
        let agent = &try_ref(agent, "agent")?.agent;
        Ok(agent.take_sent().map_or(std::ptr::null_mut(), |sent| {
            let outcome = Outcome::of(&sent.result);
            let mut out = httpqq_sent {
                id: sent.id.get(),
                status: httpqq_status::Ok,
                outcome,
                message: None,
                retry_after: Duration::ZERO,
            };
            if let Err(err) = sent.result {
                out.message = Some(CText::new(&err.to_string()));
                if let httpqq::Error::Throttled { retry_after, .. } = &err {
                    out.retry_after = *retry_after;
                }
                out.status = FfiError::Core(err).status();
            }
            into_handle(out)
        }))
    })
}

/// The id `httpqq_agent_start_send` gave the send; 0 for NULL.
///
/// # Safety
/// `sent` is NULL or a live result.
#[no_mangle]
pub unsafe extern "C" fn httpqq_sent_id(sent: *const httpqq_sent) -> u64 {
    with(sent, 0, |s| s.id)
}

/// `HTTPQQ_STATUS_OK` when the server accepted the message, else why not
/// (an `httpqq_status`, as `httpqq_agent_send` would have returned);
/// `HTTPQQ_STATUS_INVALID_ARGUMENT` for NULL.
///
/// # Safety
/// `sent` is NULL or a live result.
#[no_mangle]
pub unsafe extern "C" fn httpqq_sent_status(sent: *const httpqq_sent) -> i32 {
    with(sent, httpqq_status::InvalidArgument as i32, |s| {
        s.status as i32
    })
}

/// What became of the message, an `httpqq_outcome`: accepted, refused
/// (certainly not delivered) or unknown (sent, no reply: maybe delivered;
/// never sent again by itself). `HTTPQQ_OUTCOME_UNKNOWN` for NULL.
///
/// # Safety
/// `sent` is NULL or a live result.
#[no_mangle]
pub unsafe extern "C" fn httpqq_sent_outcome(sent: *const httpqq_sent) -> u32 {
    with(sent, Outcome::Unknown, |s| s.outcome).code()
}

/// Why the send failed, in English; NULL when it was accepted, and for
/// NULL. Borrowed: valid until the result is freed.
///
/// # Safety
/// `sent` is NULL or a live result.
#[no_mangle]
pub unsafe extern "C" fn httpqq_sent_error_message(sent: *const httpqq_sent) -> *const c_char {
    with(sent, std::ptr::null(), |s| {
        s.message.as_ref().map_or(std::ptr::null(), CText::as_ptr)
    })
}

/// For a send refused with `HTTPQQ_STATUS_THROTTLED` (past its retries):
/// how long to send nothing more, in milliseconds; 0 otherwise.
///
/// # Safety
/// `sent` is NULL or a live result.
#[no_mangle]
pub unsafe extern "C" fn httpqq_sent_retry_after_ms(sent: *const httpqq_sent) -> u64 {
    with(sent, 0, |s| millis(s.retry_after))
}

/// Frees a send's result; NULL is a no-op.
///
/// # Safety
/// `sent` is NULL or a result from `httpqq_agent_take_sent`, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_sent_free(sent: *mut httpqq_sent) {
    free_handle(sent)
}

/// Frees an event from `httpqq_agent_next_event`; NULL is a no-op. Never
/// pass the event of an `httpqq_agent_run` callback.
///
/// # Safety
/// `event` is NULL or an owned event, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_free(event: *mut httpqq_event) {
    free_handle(event)
}

/// The event's kind, an `httpqq_event_kind`; 0 for NULL.
///
/// # Safety
/// `event` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_get_kind(event: *const httpqq_event) -> u32 {
    with(event, 0, |e| e.kind)
}

/// The account (UIN) the event is about; 0 for NULL.
///
/// # Safety
/// `event` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_uin(event: *const httpqq_event) -> u64 {
    with(event, 0, |e| e.uin)
}

/// The incoming message of an `HTTPQQ_EVENT_KIND_MESSAGE` event (read it
/// with the `httpqq_message_` accessors); NULL for other kinds and NULL.
///
/// Borrowed: valid until the event is freed (or the callback returns).
///
/// # Safety
/// `event` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_message(event: *const httpqq_event) -> *const httpqq_message {
    with(event, std::ptr::null(), |e| {
        e.message
            .as_ref()
            .map_or(std::ptr::null(), |m| m as *const httpqq_message)
    })
}

/// Failures in a row of an `HTTPQQ_EVENT_KIND_RECONNECTING` event (from 1);
/// 0 otherwise.
///
/// # Safety
/// `event` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_attempt(event: *const httpqq_event) -> u32 {
    with(event, 0, |e| e.attempt)
}

/// How long the agent waits before its next request, in milliseconds: the
/// backoff of an `HTTPQQ_EVENT_KIND_RECONNECTING` event, the penalty of an
/// `HTTPQQ_EVENT_KIND_THROTTLED` one; 0 otherwise.
///
/// # Safety
/// `event` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_delay_ms(event: *const httpqq_event) -> u64 {
    with(event, 0, |e| millis(e.delay))
}

/// What became of the request behind an event's error, an
/// `httpqq_outcome` (`HTTPQQ_OUTCOME_REFUSED`: certainly not carried out,
/// `_UNKNOWN`: sent, no reply); `HTTPQQ_OUTCOME_ACCEPTED` for an event
/// without an error and for NULL.
///
/// # Safety
/// `event` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_outcome(event: *const httpqq_event) -> u32 {
    with(event, Outcome::Accepted, |e| e.outcome).code()
}

/// What failed, as an `httpqq_status`: for `HTTPQQ_EVENT_KIND_RECONNECTING`
/// the request's error (e.g. `HTTPQQ_STATUS_TRANSPORT`), for
/// `HTTPQQ_EVENT_KIND_STOPPED` why it stopped (`HTTPQQ_STATUS_OK` when it
/// was asked to); `HTTPQQ_STATUS_OK` otherwise and for NULL.
///
/// # Safety
/// `event` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_error_status(event: *const httpqq_event) -> i32 {
    with(event, httpqq_status::Ok as i32, |e| e.error_status as i32)
}

/// What failed, in English, for the events that have an error status other
/// than `HTTPQQ_STATUS_OK`; NULL otherwise.
///
/// Borrowed: valid until the event is freed (or the callback returns).
///
/// # Safety
/// `event` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_error_message(event: *const httpqq_event) -> *const c_char {
    with(event, std::ptr::null(), |e| {
        e.error_message
            .as_ref()
            .map_or(std::ptr::null(), CText::as_ptr)
    })
}

/// The server's reason (UTF-8, as sent) when the agent stopped because the
/// login was refused (`HTTPQQ_STATUS_LOGIN_FAILED`); NULL otherwise.
///
/// Borrowed: valid until the event is freed (or the callback returns).
///
/// # Safety
/// `event` is NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn httpqq_event_reason(event: *const httpqq_event) -> *const c_char {
    with(event, std::ptr::null(), |e| {
        e.reason.as_ref().map_or(std::ptr::null(), CText::as_ptr)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_c_constants_are_the_cores_codes() {
        use httpqq_event_kind as K;
        let kinds = [
            K::Online,
            K::Reconnecting,
            K::Throttled,
            K::SessionRenewed,
            K::Message,
            K::Stopped,
        ];
        let codes: Vec<u32> = kinds.iter().map(|k| *k as u32).collect();
        let core: Vec<u32> = EventKind::CODES.iter().map(|(code, _)| *code).collect();
        assert_eq!(codes, core);
        use httpqq_agent_state as S;
        let states = [
            S::Connecting,
            S::Online,
            S::Reconnecting,
            S::Throttled,
            S::Stopped,
        ];
        for (c, state) in states.iter().zip(State::ALL) {
            assert_eq!(*c as u32, state.code());
        }
        use crate::status::httpqq_outcome as O;
        for (c, outcome) in [O::Accepted, O::Refused, O::Unknown]
            .iter()
            .zip(Outcome::ALL)
        {
            assert_eq!(*c as u32, outcome.code());
        }
    }
}
