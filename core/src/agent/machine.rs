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

/// Where the session stands with the server. Each fact the loop needs
/// about it is a state carrying its data, so no two can contradict each
/// other (as h2 keeps a stream's state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Session {
    /// The server knows no session: the next request is a Login. `renew`:
    /// the server ended one (the Login that follows renews it, and says
    /// so with `SessionRenewed`).
    Absent { renew: bool },
    /// A Login succeeded and no poll has since: a `RES=20` now means the
    /// server does not keep the session, and logging in again at once
    /// would loop.
    New,
    /// A poll got through since the login (or the session was handed in
    /// logged in).
    Kept,
}

/// How the last request went, as the logout at stop needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// The server answered (with success or a result code): a logout now
    /// would be quick.
    Answered,
    /// It did not (a network failure): a logout would only wait.
    Unanswered,
    /// The stop cut it short: its reply was never read. After a poll, the
    /// server may have taken a batch off the queue that a logout would
    /// confirm as delivered, so there is none.
    CutShort,
}

/// Whether the agent runs, stops, or is done.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    Running,
    /// Told to stop (or stopping after a refused login): no more sends
    /// but the logout; `reason` is what it finishes with.
    Stopping {
        reason: StopReason,
        logout_sent: bool,
    },
    /// `Stopped` was given.
    Finished,
}

/// The agent's loop state.
#[derive(Debug)]
pub(crate) struct Machine {
    policy: Policy,
    session: Session,
    last: Last,
    run: Run,
    /// What the agent reports while it runs (`Stopped` once finished).
    shown: State,
    /// Consecutive transient failures.
    attempt: u32,
    /// No request before this.
    due: Instant,
    /// The server's timers from the last login.
    timers: LoginOutcome,
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
        let (session, last) = if logged_in {
            (Session::Kept, Last::Answered)
        } else {
            (Session::Absent { renew: false }, Last::Unanswered)
        };
        Machine {
            policy,
            session,
            last,
            run: Run::Running,
            shown: State::Connecting,
            attempt: 0,
            due: now,
            timers,
            jitter: Jitter::new(seed),
        }
    }

    pub(crate) fn state(&self) -> State {
        match self.run {
            Run::Finished => State::Stopped,
            _ => self.shown,
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.run == Run::Finished
    }

    /// Told to stop (or stopping after a refused login): no more sends.
    pub(crate) fn is_stopping(&self) -> bool {
        self.run != Run::Running
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
        if self.run == Run::Running {
            self.stop_with(StopReason::Requested);
        }
    }

    /// Stops with `reason` (replacing a reason given before), unless
    /// finished.
    fn stop_with(&mut self, reason: StopReason) {
        if self.run != Run::Finished {
            self.run = Run::Stopping {
                reason,
                logout_sent: false,
            };
        }
    }

    /// What to do at `now`. `unread` says whether messages already fetched
    /// are still waiting for the caller.
    pub(crate) fn step(&mut self, now: Instant, unread: bool) -> Step {
        let logged_in = self.is_logged_in();
        match &mut self.run {
            Run::Finished => Step::Done,
            Run::Stopping {
                reason,
                logout_sent,
            } => {
                // Log out only when the last request reached the server
                // (after failures it would only wait, and the server ends
                // the session after its idle timeout anyway), and not
                // after a request cut short (see `Last::CutShort`).
                let quick = self.last == Last::Answered;
                if self.policy.logout_on_stop && logged_in && quick && !*logout_sent {
                    *logout_sent = true;
                    return Step::Send(Action::Logout);
                }
                let reason = reason.clone();
                self.finish();
                Step::Finish(reason)
            }
            Run::Running if now < self.due => Step::WaitUntil(self.due),
            Run::Running if !logged_in => Step::Send(Action::Login),
            Run::Running if unread => Step::WaitForConsumer,
            Run::Running => Step::Send(Action::Poll),
        }
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
        if matches!(result, Err(Error::Cancelled { .. })) && self.is_stopping() {
            // Cut short by the stop: no retry, no event; the stop finishes.
            self.last = Last::CutShort;
            return events;
        }
        let answered = match &result {
            Ok(_) => true,
            Err(err) => err.result_code().is_some() || matches!(err, Error::LoginFailed { .. }),
        };
        self.last = if answered {
            Last::Answered
        } else {
            Last::Unanswered
        };
        match result {
            // The failures in a row are counted on until a poll gets
            // through: a login alone does not show that the server keeps
            // the session.
            Ok(Got::LoggedIn(timers)) => {
                self.timers = timers;
                let renewed = self.session == Session::Absent { renew: true };
                self.session = Session::New;
                if renewed {
                    events.push(EventKind::SessionRenewed);
                }
                self.become_online(&mut events);
                self.due = now;
            }
            Ok(Got::Polled(messages)) => {
                self.attempt = 0;
                self.session = Session::Kept;
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
            Err(Error::NotLoggedIn) if action == Action::Poll && !self.policy.relogin => {
                // The server ended it: nothing to log out.
                self.session = Session::Absent { renew: false };
                self.stop_with(StopReason::SessionEnded);
            }
            // Ended again before a single poll got through: the server
            // does not keep this session. Logging in again at once would
            // make a request loop; this backs off like a network failure.
            Err(Error::NotLoggedIn) if action == Action::Poll && self.session == Session::New => {
                self.session = Session::Absent { renew: true };
                events.push(self.fail(Error::SessionDropped, now));
            }
            Err(Error::NotLoggedIn) if action == Action::Poll => {
                self.session = Session::Absent { renew: true };
                self.due = now;
            }
            // A refused login is final: retrying would only lock the account
            // (the server counts wrong passwords).
            Err(Error::LoginFailed { reason }) if action == Action::Login => {
                self.stop_with(StopReason::LoginRefused { reason });
            }
            Err(Error::InvalidUin) if action == Action::Login => {
                self.stop_with(StopReason::UnknownUin);
            }
            Err(Error::Throttled { retry_after, .. }) => {
                events.push(self.throttle(retry_after, now));
            }
            Err(err) => events.push(self.fail(err, now)),
        }
        events
    }

    /// A failure that may pass: the next request waits the backoff.
    fn fail(&mut self, error: Error, now: Instant) -> EventKind {
        self.attempt = self.attempt.saturating_add(1);
        let retry_in = self.policy.backoff.delay(self.attempt, self.jitter.next());
        self.due = now + retry_in;
        self.shown = State::Reconnecting;
        EventKind::Reconnecting {
            attempt: self.attempt,
            retry_in,
            error,
        }
    }

    /// A `RES=3` (to any request of the session, a send included): no
    /// request until the penalty is over (at least
    /// [`MIN_POLL_INTERVAL`](super::MIN_POLL_INTERVAL), whatever the
    /// server or the settings say: never a busy loop).
    pub(crate) fn throttle(&mut self, retry_after: Duration, now: Instant) -> EventKind {
        let penalty = self
            .policy
            .throttle_penalty
            .unwrap_or(retry_after)
            .max(super::MIN_POLL_INTERVAL);
        self.due = self.due.max(now + penalty);
        self.shown = State::Throttled;
        EventKind::Throttled {
            retry_after: penalty,
        }
    }

    /// What is left of a penalty running at `now`, if one is.
    pub(crate) fn penalty_left(&self, now: Instant) -> Option<Duration> {
        (self.state() == State::Throttled && now < self.due).then(|| self.due - now)
    }

    /// Whether the server knows the session: a send may go now.
    pub(crate) fn is_logged_in(&self) -> bool {
        matches!(self.session, Session::New | Session::Kept)
    }

    /// Whether the agent will log in again after the server ends the
    /// session (else a `RES=20` stops it).
    pub(crate) fn relogs_in(&self) -> bool {
        self.policy.relogin
    }

    /// A send was answered `RES=20`: the session is gone. With relogin on,
    /// the agent logs in again at once (or, right after a login, backs off
    /// as a poll's `RES=20` would: the event says so); otherwise it polls
    /// at once, which finishes it.
    pub(crate) fn session_lost(&mut self, now: Instant) -> Option<EventKind> {
        if !self.is_logged_in() {
            return None;
        }
        if !self.policy.relogin {
            self.due = self.due.min(now);
            return None;
        }
        let was_new = self.session == Session::New;
        self.session = Session::Absent { renew: true };
        if was_new {
            return Some(self.fail(Error::SessionDropped, now));
        }
        if self.state() != State::Throttled {
            self.due = self.due.min(now);
        }
        None
    }

    fn become_online(&mut self, events: &mut Vec<EventKind>) {
        if self.shown != State::Online {
            self.shown = State::Online;
            events.push(EventKind::Online);
        }
    }

    fn finish(&mut self) {
        self.run = Run::Finished;
    }

    /// Ends the agent at once, whatever it was doing (a step panicked: the
    /// state cannot be trusted to go on).
    pub(crate) fn abandon(&mut self) {
        self.finish();
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
        m.record(Action::Poll, Ok(Got::Polled(vec![])), now);
        // Reset after a poll got through: the next failure waits the
        // initial delay.
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

    #[test]
    fn res20_right_after_a_login_backs_off_and_says_why() {
        let t0 = Instant::now();
        let mut m = machine(t0);
        assert_eq!(m.step(t0, false), Step::Send(Action::Login));
        m.record(Action::Login, Ok(Got::LoggedIn(LoginOutcome::DEFAULT)), t0);
        assert_eq!(m.step(t0, false), Step::Send(Action::Poll));
        let events = m.record(Action::Poll, Err(Error::NotLoggedIn), t0);
        match &events[..] {
            [EventKind::Reconnecting {
                attempt: 1,
                retry_in,
                error: Error::SessionDropped,
            }] => assert_eq!(*retry_in, Duration::from_secs(1)),
            other => panic!("{other:?}"),
        }
        assert_eq!(m.state(), State::Reconnecting);
        assert_eq!(
            m.step(t0, false),
            Step::WaitUntil(t0 + Duration::from_secs(1))
        );
        // After the backoff it logs in again; the next drop waits longer.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(m.step(t1, false), Step::Send(Action::Login));
        m.record(Action::Login, Ok(Got::LoggedIn(LoginOutcome::DEFAULT)), t1);
        m.record(Action::Poll, Err(Error::NotLoggedIn), t1);
        assert_eq!(
            m.step(t1, false),
            Step::WaitUntil(t1 + Duration::from_secs(2))
        );
        // A poll that gets through ends it: the next RES=20 logs in at once.
        let t2 = t1 + Duration::from_secs(2);
        m.record(Action::Login, Ok(Got::LoggedIn(LoginOutcome::DEFAULT)), t2);
        m.record(Action::Poll, Ok(Got::Polled(vec![])), t2);
        let t3 = t2 + Duration::from_secs(5);
        assert!(m
            .record(Action::Poll, Err(Error::NotLoggedIn), t3)
            .is_empty());
        assert_eq!(m.step(t3, false), Step::Send(Action::Login));
    }

    #[test]
    fn a_request_cut_short_by_the_stop_skips_the_logout_and_reports_nothing() {
        // (Its reply was not read: a poll's batch may be off the queue, and
        // a logout would confirm it as delivered.)
        let t0 = Instant::now();
        let mut m = Machine::new(policy(), true, LoginOutcome::DEFAULT, t0, 1);
        m.record(Action::Poll, Ok(Got::Polled(vec![])), t0);
        m.stop();
        let events = m.record(
            Action::Poll,
            Err(Error::Cancelled {
                phase: Phase::Receiving,
            }),
            t0,
        );
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(m.step(t0, false), Step::Finish(StopReason::Requested));
    }

    #[test]
    fn a_zero_penalty_still_waits_the_shortest_interval() {
        let t0 = Instant::now();
        let mut p = policy();
        p.throttle_penalty = Some(Duration::ZERO);
        let mut m = Machine::new(p, true, LoginOutcome::DEFAULT, t0, 1);
        m.record(
            Action::Poll,
            Err(Error::Throttled {
                retry_after: Duration::ZERO,
                reason: None,
            }),
            t0,
        );
        assert_eq!(
            m.step(t0, false),
            Step::WaitUntil(t0 + crate::agent::MIN_POLL_INTERVAL)
        );
    }

    /// What the server does with one request, in the property test below.
    #[derive(Debug, Clone)]
    enum Answer {
        Success,
        Messages,
        NotLoggedIn,
        Throttled(u64),
        Transient,
        LoginRefused,
    }

    fn answer() -> impl proptest::strategy::Strategy<Value = Answer> {
        use proptest::prelude::*;
        prop_oneof![
            4 => Just(Answer::Success),
            2 => Just(Answer::Messages),
            6 => Just(Answer::NotLoggedIn),
            1 => (0u64..30_000).prop_map(Answer::Throttled),
            3 => Just(Answer::Transient),
            1 => Just(Answer::LoginRefused),
        ]
    }

    fn result_of(action: Action, answer: &Answer) -> Result<Got, Error> {
        match (answer, action) {
            (Answer::Success | Answer::Messages, Action::Login) => {
                Ok(Got::LoggedIn(LoginOutcome::DEFAULT))
            }
            (Answer::Success, Action::Poll) => Ok(Got::Polled(vec![])),
            (Answer::Messages, Action::Poll) => Ok(Got::Polled(vec![text(1), text(2)])),
            (Answer::Success | Answer::Messages, Action::Logout) => Ok(Got::LoggedOut),
            // Login has no RES=20 of its own: take it as a success, which
            // is what makes the loop tight when the poll then gets RES=20.
            (Answer::NotLoggedIn, Action::Login) => Ok(Got::LoggedIn(LoginOutcome::DEFAULT)),
            (Answer::NotLoggedIn, _) => Err(Error::NotLoggedIn),
            (Answer::Throttled(ms), _) => Err(Error::Throttled {
                retry_after: Duration::from_millis(*ms),
                reason: None,
            }),
            (Answer::Transient, _) => Err(broken()),
            (Answer::LoginRefused, Action::Login) => Err(Error::LoginFailed {
                reason: "密码错误".into(),
            }),
            (Answer::LoginRefused, _) => Err(Error::NoReply),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(100))]

        /// Whatever the server answers and however fast, the agent makes no
        /// more requests than its poll interval and backoff allow: at most
        /// three in a row without a wait (a poll's RES=20, the login, the
        /// poll after it), and so at most three per shortest wait in any
        /// minute. Polls right after a batch of messages (fetching the
        /// rest) are the only ones not counted: each brings messages.
        #[test]
        fn no_answer_makes_the_agent_flood(
            answers in proptest::collection::vec(answer(), 1..2000),
            latencies in proptest::collection::vec(0u64..20, 64),
            poll_ms in 100u64..10_000,
            penalty_ms in proptest::option::of(0u64..5_000),
            seed in 1u64..u64::MAX,
        ) {
            let mut p = policy();
            p.poll_interval = Duration::from_millis(poll_ms);
            p.throttle_penalty = penalty_ms.map(Duration::from_millis);
            p.backoff.jitter = 0.2;
            let t0 = Instant::now();
            let mut m = Machine::new(p, false, LoginOutcome::DEFAULT, t0, seed);
            let shortest_wait = [
                m.poll_interval(),
                Duration::from_secs_f64(1.0 * 0.8),
                crate::agent::MIN_POLL_INTERVAL,
            ]
            .into_iter()
            .min()
            .unwrap();
            let mut now = t0;
            let mut counted: Vec<Instant> = Vec::new();
            let mut in_a_row = 0;
            let mut after_messages = false;
            for (n, answer) in answers.iter().enumerate() {
                let action = loop {
                    match m.step(now, false) {
                        Step::Send(action) => break Some(action),
                        Step::WaitUntil(at) => {
                            proptest::prop_assert!(at > now, "a wait that does not wait");
                            now = at;
                            in_a_row = 0;
                        }
                        Step::WaitForConsumer => unreachable!("the consumer takes everything"),
                        Step::Finish(_) | Step::Done => break None,
                    }
                };
                let Some(action) = action else { break };
                if after_messages {
                    // Fetching the rest of the messages: progress.
                    in_a_row = 0;
                } else {
                    in_a_row += 1;
                    counted.push(now);
                    proptest::prop_assert!(
                        in_a_row <= 3,
                        "{in_a_row} requests without a wait, at request {n}: {action:?} after {:?}",
                        &answers[n.saturating_sub(4)..=n]
                    );
                }
                now += Duration::from_millis(latencies[n % latencies.len()]);
                after_messages = matches!(answer, Answer::Messages) && action == Action::Poll;
                m.record(action, result_of(action, answer), now);
            }
            let minute = Duration::from_secs(60);
            let allowed = 3 * (minute.as_millis() / shortest_wait.as_millis() + 1) as usize;
            for (i, start) in counted.iter().enumerate() {
                let within = counted[i..].iter().take_while(|t| **t < *start + minute).count();
                proptest::prop_assert!(within <= allowed, "{within} requests in a minute (allowed {allowed})");
            }
        }
    }
}
