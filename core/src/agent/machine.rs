//! What an agent does next, as a pure function of what happened: no
//! sockets, no clock (times are passed in), no threads. The runtime asks
//! [`Machine::step`] what to do, does it, and tells [`Machine::record`]
//! how it went; every rule of the loop (backoff, penalties, re-login,
//! keep-alive, stopping) lives here and is tested with made-up times.

use std::time::{Duration, Instant};

use super::event::{EventKind, State, StopReason};
use super::policy::Policy;
use crate::error::Error;
use crate::model::{LoginOutcome, Message};

/// A request the agent makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Login (the first, or again after `RES=20`).
    Login,
    /// GetMsgEx: the poll, which is also the keep-alive.
    Poll,
    /// Logout, once, when told to stop.
    Logout,
}

/// What the runtime should do now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Make this request now, then [`Machine::record`] its result.
    Send(Action),
    /// Nothing before this instant (unless woken).
    WaitUntil(Instant),
    /// Nothing until the caller has taken the messages already fetched
    /// (they stay on the server meanwhile; see [`Policy`]).
    WaitForConsumer,
    /// The agent is done: emit `Stopped` with this reason. Given once.
    Finish(StopReason),
    /// Finished earlier: nothing more, ever.
    Done,
}

/// What a request gave, as the machine needs it.
#[derive(Debug)]
pub(crate) enum Got {
    LoggedIn(LoginOutcome),
    Polled(Vec<Message>),
    LoggedOut,
}

/// The agent's loop state.
#[derive(Debug)]
pub(crate) struct Machine {
    policy: Policy,
    state: State,
    /// Whether the server knows the session (a Login succeeded and no
    /// `RES=20` came since).
    logged_in: bool,
    /// The next Login renews a session the server ended (`RES=20`).
    renewing: bool,
    /// Consecutive transient failures.
    attempt: u32,
    /// No request before this.
    due: Instant,
    /// The server's timers from the last login.
    timers: LoginOutcome,
    /// Told to stop; the reason it will finish with.
    stopping: Option<StopReason>,
    /// The logout at stop was tried.
    logged_out: bool,
    finished: bool,
    jitter: Jitter,
}

impl Machine {
    /// A machine that logs in first (`logged_in` false) or starts polling
    /// a session already logged in.
    pub(crate) fn new(
        policy: Policy,
        logged_in: bool,
        timers: LoginOutcome,
        now: Instant,
        seed: u64,
    ) -> Self {
        Machine {
            policy,
            state: State::Connecting,
            logged_in,
            renewing: false,
            attempt: 0,
            due: now,
            timers,
            stopping: None,
            logged_out: false,
            finished: false,
            jitter: Jitter::new(seed),
        }
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// Told to stop (or stopping after a refused login): no more sends.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.is_some() || self.finished
    }

    /// How often to poll while nothing comes: the caller's interval, but
    /// never less often than the session needs to stay alive (the server's
    /// heartbeat, and half its idle timeout), and never more often than
    /// [`MIN_POLL_INTERVAL`](super::MIN_POLL_INTERVAL).
    pub(crate) fn poll_interval(&self) -> Duration {
        let mut every = self.policy.poll_interval;
        if !self.timers.heartbeat.is_zero() {
            every = every.min(self.timers.heartbeat);
        }
        if !self.timers.idle_timeout.is_zero() {
            every = every.min(self.timers.idle_timeout / 2);
        }
        every.max(super::MIN_POLL_INTERVAL)
    }

    /// Asks the machine to stop (idempotent): it logs out if the server
    /// knows the session, then finishes.
    pub(crate) fn stop(&mut self) {
        if self.stopping.is_none() {
            self.stopping = Some(StopReason::Requested);
        }
    }

    /// What to do at `now`. `unread` says whether messages already fetched
    /// are still waiting for the caller.
    pub(crate) fn step(&mut self, now: Instant, unread: bool) -> Step {
        if self.finished {
            return Step::Done;
        }
        if let Some(reason) = &self.stopping {
            // Log out only when the last request reached the server: after
            // failures (the server is away) it would only wait out a
            // timeout, and the server ends the session after its idle
            // timeout anyway.
            let reachable = matches!(self.state, State::Online | State::Throttled);
            if self.policy.logout_on_stop && self.logged_in && reachable && !self.logged_out {
                self.logged_out = true;
                return Step::Send(Action::Logout);
            }
            let reason = reason.clone();
            self.finish();
            return Step::Finish(reason);
        }
        if now < self.due {
            return Step::WaitUntil(self.due);
        }
        if !self.logged_in {
            return Step::Send(Action::Login);
        }
        if unread {
            return Step::WaitForConsumer;
        }
        Step::Send(Action::Poll)
    }

    /// Takes in how a request went, at `now`; returns the events it makes.
    pub(crate) fn record(
        &mut self,
        action: Action,
        result: Result<Got, Error>,
        now: Instant,
    ) -> Vec<EventKind> {
        let mut events = Vec::new();
        if action == Action::Logout {
            // Stopping: whatever the logout gave, the agent is done.
            return events;
        }
        match result {
            Ok(Got::LoggedIn(timers)) => {
                self.timers = timers;
                self.logged_in = true;
                self.attempt = 0;
                if std::mem::take(&mut self.renewing) {
                    events.push(EventKind::SessionRenewed);
                }
                self.become_online(&mut events);
                self.due = now;
            }
            Ok(Got::Polled(messages)) => {
                self.attempt = 0;
                self.become_online(&mut events);
                // While messages keep coming, poll again at once (after the
                // caller took them); else wait the interval.
                self.due = if messages.is_empty() {
                    now + self.poll_interval()
                } else {
                    now
                };
                events.extend(messages.into_iter().map(EventKind::Message));
            }
            Ok(Got::LoggedOut) => {}
            Err(Error::NotLoggedIn) if action == Action::Poll => {
                if self.policy.relogin {
                    self.logged_in = false;
                    self.renewing = true;
                    self.due = now;
                } else {
                    self.stopping = Some(StopReason::SessionEnded);
                }
            }
            // A refused login is final: retrying would only lock the account
            // (the server counts wrong passwords).
            Err(Error::LoginFailed { reason }) if action == Action::Login => {
                self.stopping = Some(StopReason::LoginRefused { reason });
            }
            Err(Error::InvalidUin) if action == Action::Login => {
                self.stopping = Some(StopReason::UnknownUin);
            }
            Err(Error::Throttled { retry_after, .. }) => {
                events.push(self.throttle(retry_after, now));
            }
            Err(err) => {
                self.attempt = self.attempt.saturating_add(1);
                let retry_in = self.policy.backoff.delay(self.attempt, self.jitter.next());
                self.due = now + retry_in;
                self.state = State::Reconnecting;
                events.push(EventKind::Reconnecting {
                    attempt: self.attempt,
                    retry_in,
                    error: err,
                });
            }
        }
        events
    }

    /// A `RES=3` (to any request of the session, a send included): no
    /// request until the penalty is over.
    pub(crate) fn throttle(&mut self, retry_after: Duration, now: Instant) -> EventKind {
        let penalty = self.policy.throttle_penalty.unwrap_or(retry_after);
        self.due = self.due.max(now + penalty);
        self.state = State::Throttled;
        EventKind::Throttled {
            retry_after: penalty,
        }
    }

    /// What is left of a penalty running at `now`, if one is.
    pub(crate) fn penalty_left(&self, now: Instant) -> Option<Duration> {
        (self.state == State::Throttled && now < self.due).then(|| self.due - now)
    }

    /// A send was answered `RES=20`: poll at once, which will log in again.
    pub(crate) fn session_lost(&mut self, now: Instant) {
        if self.state != State::Throttled {
            self.due = self.due.min(now);
        }
    }

    fn become_online(&mut self, events: &mut Vec<EventKind>) {
        if self.state != State::Online {
            self.state = State::Online;
            events.push(EventKind::Online);
        }
    }

    fn finish(&mut self) {
        self.finished = true;
        self.state = State::Stopped;
    }
}

/// A small random number source for the backoff's jitter (xorshift64*):
/// no dependency, and tests give it a seed.
#[derive(Debug)]
struct Jitter(u64);

impl Jitter {
    fn new(seed: u64) -> Self {
        Jitter(seed | 1)
    }

    /// A number in [0, 1).
    fn next(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::policy::Backoff;
    use crate::error::Phase;
    use crate::model::Uin;

    fn policy() -> Policy {
        Policy {
            poll_interval: Duration::from_secs(5),
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(8),
                factor: 2.0,
                jitter: 0.0,
            },
            ..Policy::default()
        }
    }

    fn broken() -> Error {
        Error::Transport {
            phase: Phase::Connecting,
            message: "refused".into(),
            source: None,
        }
    }

    fn text(n: u64) -> Message {
        Message::Text {
            from: Uin::new(n),
            text: "hi".into(),
        }
    }

    fn machine(now: Instant) -> Machine {
        Machine::new(policy(), false, LoginOutcome::DEFAULT, now, 7)
    }

    #[test]
    fn logs_in_then_polls_then_waits_the_interval() {
        let t0 = Instant::now();
        let mut m = machine(t0);
        assert_eq!(m.step(t0, false), Step::Send(Action::Login));
        let events = m.record(Action::Login, Ok(Got::LoggedIn(LoginOutcome::DEFAULT)), t0);
        assert!(matches!(events[..], [EventKind::Online]));
        assert_eq!(m.step(t0, false), Step::Send(Action::Poll));
        let events = m.record(Action::Poll, Ok(Got::Polled(vec![text(1)])), t0);
        assert!(matches!(events[..], [EventKind::Message(_)]), "{events:?}");
        // Messages came: the next poll waits only for the caller.
        assert_eq!(m.step(t0, true), Step::WaitForConsumer);
        assert_eq!(m.step(t0, false), Step::Send(Action::Poll));
        m.record(Action::Poll, Ok(Got::Polled(vec![])), t0);
        assert_eq!(
            m.step(t0, false),
            Step::WaitUntil(t0 + Duration::from_secs(5))
        );
    }

    #[test]
    fn the_interval_is_bounded_by_what_keeps_the_session_alive() {
        let t0 = Instant::now();
        let mut p = policy();
        p.poll_interval = Duration::from_secs(3600);
        let mut m = Machine::new(p, true, LoginOutcome::DEFAULT, t0, 1);
        assert_eq!(m.poll_interval(), Duration::from_secs(60), "the heartbeat");
        m.timers = LoginOutcome {
            heartbeat: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(100),
        };
        assert_eq!(
            m.poll_interval(),
            Duration::from_secs(50),
            "half the idle timeout"
        );
        m.timers = LoginOutcome {
            heartbeat: Duration::ZERO,
            idle_timeout: Duration::ZERO,
        };
        assert_eq!(
            m.poll_interval(),
            Duration::from_secs(3600),
            "zero timers mean no bound"
        );
        let mut fast = policy();
        fast.poll_interval = Duration::ZERO;
        let m = Machine::new(fast, true, LoginOutcome::DEFAULT, t0, 1);
        assert_eq!(
            m.poll_interval(),
            crate::agent::MIN_POLL_INTERVAL,
            "never a busy loop"
        );
    }

    #[test]
    fn transient_failures_back_off_exponentially_to_the_cap_and_reset() {
        let t0 = Instant::now();
        let mut m = machine(t0);
        let mut delays = Vec::new();
        let mut now = t0;
        for _ in 0..6 {
            assert_eq!(m.step(now, false), Step::Send(Action::Login));
            match &m.record(Action::Login, Err(broken()), now)[..] {
                [EventKind::Reconnecting {
                    retry_in, attempt, ..
                }] => {
                    assert_eq!(*attempt as usize, delays.len() + 1);
                    delays.push(retry_in.as_secs());
                    now += *retry_in;
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(m.state(), State::Reconnecting);
        }
        assert_eq!(delays, [1, 2, 4, 8, 8, 8]);
        let events = m.record(Action::Login, Ok(Got::LoggedIn(LoginOutcome::DEFAULT)), now);
        assert!(matches!(events[..], [EventKind::Online]));
        // Reset after a success: the next failure waits the initial delay.
        m.record(Action::Poll, Err(broken()), now);
        assert_eq!(
            m.step(now, false),
            Step::WaitUntil(now + Duration::from_secs(1))
        );
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let backoff = Backoff {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(10),
            factor: 2.0,
            jitter: 0.2,
        };
        let mut jitter = Jitter::new(42);
        let delays: Vec<Duration> = (0..1000).map(|_| backoff.delay(1, jitter.next())).collect();
        assert!(delays
            .iter()
            .all(|d| *d >= Duration::from_secs(8) && *d <= Duration::from_secs(12)));
        let low = delays
            .iter()
            .filter(|d| **d < Duration::from_secs(9))
            .count();
        let high = delays
            .iter()
            .filter(|d| **d > Duration::from_secs(11))
            .count();
        assert!(low > 100 && high > 100, "spread: {low} low, {high} high");
    }

    #[test]
    fn throttled_means_no_request_until_the_penalty_is_over() {
        let t0 = Instant::now();
        let mut m = Machine::new(policy(), true, LoginOutcome::DEFAULT, t0, 1);
        let events = m.record(
            Action::Poll,
            Err(Error::Throttled {
                retry_after: Duration::from_secs(20),
                reason: None,
            }),
            t0,
        );
        assert!(
            matches!(events[..], [EventKind::Throttled { retry_after }] if retry_after == Duration::from_secs(20))
        );
        assert_eq!(m.state(), State::Throttled);
        assert_eq!(
            m.penalty_left(t0 + Duration::from_secs(5)),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            m.step(t0 + Duration::from_secs(19), false),
            Step::WaitUntil(t0 + Duration::from_secs(20))
        );
        assert_eq!(
            m.step(t0 + Duration::from_secs(20), false),
            Step::Send(Action::Poll)
        );
        // A configured penalty wins over the protocol's.
        let mut p = policy();
        p.throttle_penalty = Some(Duration::from_millis(300));
        let mut m = Machine::new(p, true, LoginOutcome::DEFAULT, t0, 1);
        m.record(
            Action::Poll,
            Err(Error::Throttled {
                retry_after: Duration::from_secs(20),
                reason: None,
            }),
            t0,
        );
        assert_eq!(
            m.step(t0, false),
            Step::WaitUntil(t0 + Duration::from_millis(300))
        );
        // A send's RES=20 during the penalty does not cut it short.
        m.session_lost(t0);
        assert_eq!(
            m.step(t0, false),
            Step::WaitUntil(t0 + Duration::from_millis(300))
        );
    }

    #[test]
    fn res20_logs_in_again_and_polls_at_once() {
        let t0 = Instant::now();
        let mut m = Machine::new(policy(), true, LoginOutcome::DEFAULT, t0, 1);
        m.record(Action::Poll, Ok(Got::Polled(vec![])), t0);
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(m.step(t1, false), Step::Send(Action::Poll));
        assert!(m
            .record(Action::Poll, Err(Error::NotLoggedIn), t1)
            .is_empty());
        assert_eq!(m.step(t1, false), Step::Send(Action::Login));
        let events = m.record(Action::Login, Ok(Got::LoggedIn(LoginOutcome::DEFAULT)), t1);
        assert!(
            matches!(events[..], [EventKind::SessionRenewed]),
            "{events:?}"
        );
        assert_eq!(m.step(t1, false), Step::Send(Action::Poll));
    }

    #[test]
    fn res20_without_relogin_stops() {
        let t0 = Instant::now();
        let mut p = policy();
        p.relogin = false;
        let mut m = Machine::new(p, true, LoginOutcome::DEFAULT, t0, 1);
        m.record(Action::Poll, Err(Error::NotLoggedIn), t0);
        assert_eq!(m.step(t0, false), Step::Finish(StopReason::SessionEnded));
        assert_eq!(m.step(t0, false), Step::Done);
    }

    #[test]
    fn a_refused_login_is_final() {
        let t0 = Instant::now();
        for err in [
            Error::LoginFailed {
                reason: "密码错误".into(),
            },
            Error::InvalidUin,
        ] {
            let mut m = machine(t0);
            assert_eq!(m.step(t0, false), Step::Send(Action::Login));
            assert!(m.record(Action::Login, Err(err), t0).is_empty());
            match m.step(t0, false) {
                Step::Finish(StopReason::LoginRefused { reason }) => assert_eq!(reason, "密码错误"),
                Step::Finish(StopReason::UnknownUin) => {}
                other => panic!("{other:?}"),
            }
            assert_eq!(m.step(t0 + Duration::from_secs(100), false), Step::Done);
            assert_eq!(m.state(), State::Stopped);
        }
    }

    #[test]
    fn stop_logs_out_only_when_the_server_is_reachable() {
        let t0 = Instant::now();
        let mut m = Machine::new(policy(), true, LoginOutcome::DEFAULT, t0, 1);
        m.record(Action::Poll, Ok(Got::Polled(vec![])), t0);
        m.stop();
        m.stop();
        assert_eq!(m.step(t0, false), Step::Send(Action::Logout));
        m.record(Action::Logout, Err(broken()), t0);
        assert_eq!(m.step(t0, false), Step::Finish(StopReason::Requested));
        // In backoff: no logout, finished at once.
        let mut m = Machine::new(policy(), true, LoginOutcome::DEFAULT, t0, 1);
        m.record(Action::Poll, Err(broken()), t0);
        m.stop();
        assert_eq!(m.step(t0, false), Step::Finish(StopReason::Requested));
        // An agent that does not own its session never logs out.
        let mut p = policy();
        p.logout_on_stop = false;
        let mut m = Machine::new(p, true, LoginOutcome::DEFAULT, t0, 1);
        m.record(Action::Poll, Ok(Got::Polled(vec![])), t0);
        m.stop();
        assert_eq!(m.step(t0, false), Step::Finish(StopReason::Requested));
    }
}
