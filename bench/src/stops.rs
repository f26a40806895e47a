//! Row 19: how long an agent's stop takes, in the three states a stop
//! finds a bot in: waiting for its next poll (a 30 s interval), in backoff
//! after its server went away (a 10 s backoff), and with a poll in flight
//! that the server holds (a 10 s client timeout). The agent promises to
//! have stopped within its stop timeout (100 ms by default) in each; the
//! tests only check that a stop does not wait for the interval, the backoff
//! or the timeout, since a timed test on a shared machine would flake.
//!
//! Each stop is timed from `Agent::stop` on the calling thread to
//! `wait_stopped` returning, against a fresh reference server (in this
//! process) per stop.

use crate::measure::percentile;
use httpqq::{Agent, Backoff, Client, EventKind, Uin};
use httpqq_server::{Config, Server};
use std::time::{Duration, Instant};

/// The states a stop is measured in.
#[derive(Clone, Copy)]
pub enum State {
    /// Online, waiting for the next poll 30 s away.
    Waiting,
    /// The server stopped listening; the agent waits out a 10 s backoff.
    Backoff,
    /// A poll is in flight and the server answers nothing (paused).
    InFlight,
}

impl State {
    /// What the row calls it.
    pub fn label(self) -> &'static str {
        match self {
            State::Waiting => "waiting for its next poll (interval 30 s; the stop logs out)",
            State::Backoff => "in backoff after the server went away (backoff 10 s)",
            State::InFlight => "a poll in flight that the server holds (client timeout 10 s)",
        }
    }
}

/// What one state measured.
pub struct Stops {
    pub stops: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// The agent's default stop timeout: the promise measured.
pub const PROMISE: Duration = Duration::from_millis(100);

/// Times `rounds` stops of an agent in `state`.
pub fn run(state: State, rounds: u32) -> Stops {
    let mut took: Vec<Duration> = (0..rounds).map(|_| one(state)).collect();
    Stops {
        stops: took.len(),
        p50: percentile(&mut took, 50.0),
        p99: percentile(&mut took, 99.0),
        max: percentile(&mut took, 100.0),
    }
}

fn one(state: State) -> Duration {
    let server = Server::start(Config::default()).expect("server");
    let long = Duration::from_secs(10);
    let client = Client::builder()
        .endpoint(server.local_addr().to_string())
        .timeout(long)
        .build()
        .expect("client");
    let poll_interval = match state {
        State::Waiting => Duration::from_secs(30),
        State::Backoff | State::InFlight => Duration::from_millis(100),
    };
    let agent = Agent::builder(&client, Uin::new(10002), "demo")
        .poll_interval(poll_interval)
        .backoff(Backoff {
            initial: long,
            max: long,
            factor: 2.0,
            jitter: 0.0,
        })
        .start()
        .expect("agent");
    until(&agent, |kind| matches!(kind, EventKind::Online));
    match state {
        State::Waiting => std::thread::sleep(Duration::from_millis(50)),
        State::Backoff => {
            server.stop_listening();
            until(&agent, |kind| {
                matches!(kind, EventKind::Reconnecting { .. })
            });
        }
        State::InFlight => {
            server.pause();
            // Over two poll intervals: the next poll has gone out and waits.
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    let asked = Instant::now();
    agent.stop();
    assert!(agent.wait_stopped(long), "the agent did not stop");
    let took = asked.elapsed();
    server.resume();
    took
}

/// Takes events until one of the wanted kind (within 10 s).
fn until(agent: &Agent, wanted: impl Fn(&EventKind) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match agent.next_event_timeout(left) {
            Ok(event) if wanted(&event.kind) => return,
            Ok(_) => {}
            Err(why) => panic!("no such event within 10 s: {why:?}"),
        }
    }
}
