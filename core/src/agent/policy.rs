//! How an agent rides out trouble: its poll interval, its backoff, the
//! penalty it observes after `RES=3`, and whether it logs in again.

use std::time::Duration;

/// Capped exponential backoff with jitter, for the retries after transient
/// failures (the network, a server that is down or answers garbage).
///
/// The `n`th retry in a row waits `initial × factor^(n-1)`, at most `max`,
/// then moves by up to `jitter` of itself either way (so that many clients
/// do not come back all at once). The count restarts after a success.
///
/// ```
/// use httpqq::Backoff;
/// use std::time::Duration;
///
/// let backoff = Backoff::default();
/// assert_eq!(backoff.initial, Duration::from_secs(1));
/// assert_eq!(backoff.max, Duration::from_secs(30));
/// // Without its jitter, the 3rd retry in a row waits 1 s × 2² = 4 s.
/// assert_eq!(backoff.delay(3, 0.5), Duration::from_secs(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first retry's delay (default 1 s).
    pub initial: Duration,
    /// The longest delay (default 30 s): against a dead server an agent
    /// makes at most about one request per `max`, plus its timeout.
    pub max: Duration,
    /// How much longer each retry in a row waits (default 2).
    pub factor: f64,
    /// The fraction by which a delay moves at random, either way
    /// (default 0.2: ±20%).
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (1 for the first), given a
    /// random number in [0, 1) for the jitter (0.5 gives the delay without
    /// jitter).
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let base = self.initial.as_secs_f64() * self.factor.max(1.0).powi(exponent);
        let capped = base.min(self.max.as_secs_f64());
        let jitter = self.jitter.clamp(0.0, 1.0);
        let moved = capped * (1.0 + jitter * (2.0 * random.clamp(0.0, 1.0) - 1.0));
        Duration::try_from_secs_f64(moved.max(0.0)).unwrap_or(self.max)
    }

    /// Checks that the settings make sense: positive delays, `initial` ≤
    /// `max`, a factor of at least 1 and a jitter from 0 to 1.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.initial.is_zero() || self.max < self.initial {
            return Err(format!(
                "backoff delays must be positive and initial ({:?}) at most max ({:?})",
                self.initial, self.max
            ));
        }
        if !(self.factor >= 1.0 && self.factor.is_finite()) {
            return Err(format!(
                "the backoff factor must be at least 1, not {}",
                self.factor
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(format!(
                "the backoff jitter must be from 0 to 1, not {}",
                self.jitter
            ));
        }
        Ok(())
    }
}

/// How fast an agent sends: at most `count` messages in any `window`
/// (sliding). The default, 90 in 10 s, stays under the reference server's
/// limit (100 in 10 s) with room for the time a request takes to arrive;
/// the original server's limit was never measured.
///
/// ```
/// let pace = httpqq::SendPace::default();
/// assert_eq!((pace.count, pace.window), (90, std::time::Duration::from_secs(10)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPace {
    /// Messages allowed in one window.
    pub count: u32,
    /// The sliding window.
    pub window: Duration,
}

impl Default for SendPace {
    fn default() -> Self {
        SendPace {
            count: 90,
            window: Duration::from_secs(10),
        }
    }
}

/// Everything an agent's loop is told (see [`AgentBuilder`](super::AgentBuilder)).
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) poll_interval: Duration,
    pub(crate) backoff: Backoff,
    /// `None`: the protocol's penalty for the command (20 s, 30 s for
    /// DelFromList).
    pub(crate) throttle_penalty: Option<Duration>,
    pub(crate) relogin: bool,
    pub(crate) logout_on_stop: bool,
    /// How long a stop takes at most (see
    /// [`AgentBuilder::stop_timeout`](super::AgentBuilder::stop_timeout)).
    pub(crate) stop_timeout: Duration,
    /// How fast sends go (`None`: as fast as the caller sends).
    pub(crate) send_pace: Option<SendPace>,
    /// How often a send refused for a penalty is sent again after it.
    pub(crate) throttle_retries: u32,
}

/// How long a stop takes at most by default.
pub(crate) const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_millis(100);

impl Default for Policy {
    fn default() -> Self {
        Policy {
            poll_interval: Duration::from_secs(5),
            backoff: Backoff::default(),
            throttle_penalty: None,
            relogin: true,
            logout_on_stop: true,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
            send_pace: Some(SendPace::default()),
            throttle_retries: 3,
        }
    }
}
