//! The server's state: what survives a restart is in the
//! [store](crate::store); what does not (sessions and presence, rate
//! limits, the queue totals kept for speed) is here, in memory, with the
//! rules that change them.
//!
//! One request is one transaction: the store's writes and the memory's
//! changes are both undone if the commit fails ([`World::finish`]), so a
//! request answered with the NULL changes nothing.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use httpqq::Status;

use crate::config::RateLimit;
use crate::lockout::Lockout;
use crate::store::{QueueTotals, Queued, Storage, StoreError};

/// A logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Live {
    pub ip: IpAddr,
    pub last_seen: Instant,
    pub status: Status,
}

/// What a user is limited by, in memory only.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    /// Messages and verification requests sent (the sender's rate limit).
    pub sent: VecDeque<Instant>,
    pub status_changes: VecDeque<Instant>,
    /// Peers this user already sent one verification request to (quirk).
    pub asked_once: BTreeSet<u64>,
}

/// How much a user's queue may hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub messages: usize,
    pub bytes: usize,
}

/// Whether a message was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queuing {
    Queued,
    /// The recipient's queue is at its cap (by count or by bytes).
    Full,
}

/// A change to memory, and how to take it back.
#[derive(Debug)]
enum Undo {
    Session(u64, Option<Live>),
    Queue(u64, QueueTotals),
    AskedOnce(u64, u64, bool),
}

/// The whole state, behind the server's one lock.
pub(crate) struct World {
    pub store: Box<dyn Storage>,
    pub sessions: HashMap<u64, Live>,
    /// UINs answered `RES=3` to everything until then (a test control).
    pub held: HashMap<u64, Instant>,
    /// The queue of every user who has one.
    queues: HashMap<u64, QueueTotals>,
    limits: HashMap<u64, Limits>,
    /// Password guessing: who may have a password checked, and the fast
    /// path of each account's last good login (memory only).
    pub lockout: Lockout,
    journal: Vec<Undo>,
    /// The store's data version when last looked at (see
    /// [`World::follow_external_changes`]).
    data_version: i64,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("sessions", &self.sessions.len())
            .field("queues", &self.queues.len())
            .finish_non_exhaustive()
    }
}

/// The code friends are told for a presence (`None`: logged out).
fn announced(status: Option<Status>) -> u32 {
    match status {
        Some(Status::Online) => 10,
        Some(Status::Busy) => 30,
        _ => 20,
    }
}

/// Records an event if the limit allows it; `false` when over the limit.
pub(crate) fn allow(times: &mut VecDeque<Instant>, limit: RateLimit, now: Instant) -> bool {
    if recent(times, limit.window, now) >= limit.count as usize {
        return false;
    }
    times.push_back(now);
    true
}

/// How many events are in the window now, without recording one.
pub(crate) fn recent(times: &mut VecDeque<Instant>, window: Duration, now: Instant) -> usize {
    while times
        .front()
        .is_some_and(|&t| now.duration_since(t) >= window)
    {
        times.pop_front();
    }
    times.len()
}

impl World {
    /// The world over a store: every batch left in flight by a stop or a
    /// crash goes back in front of its queue (DECISIONS.md 58).
    pub(crate) fn new(mut store: Box<dyn Storage>) -> Result<World, StoreError> {
        store.requeue_in_flight()?;
        store.commit()?;
        let queues = store.queue_totals()?.into_iter().collect();
        Ok(World {
            store,
            sessions: HashMap::new(),
            held: HashMap::new(),
            queues,
            limits: HashMap::new(),
            lockout: Lockout::new(),
            journal: Vec::new(),
            data_version: 0,
        })
    }

    /// Runs `work` as one transaction, as rusqlite's `Transaction` does:
    /// committed if it succeeds (and taken back if the commit fails),
    /// taken back — the store's writes and the memory's changes — if it
    /// fails. The only way this server changes the world.
    pub(crate) fn transaction<T, E: From<StoreError>>(
        &mut self,
        work: impl FnOnce(&mut World) -> Result<T, E>,
    ) -> Result<T, E> {
        match work(self) {
            Ok(value) => {
                self.finish()?;
                Ok(value)
            }
            Err(err) => {
                self.abort();
                Err(err)
            }
        }
    }

    /// Ends a request: commits its writes. If the commit fails, the writes
    /// and the memory's changes are both taken back.
    fn finish(&mut self) -> Result<(), StoreError> {
        let committed = if self.store.dirty() {
            self.store.commit()
        } else {
            Ok(())
        };
        if committed.is_err() {
            self.undo();
        }
        self.journal.clear();
        committed
    }

    /// Abandons a request: its writes and memory changes are taken back
    /// (also what is left open by a request that panicked).
    pub(crate) fn abort(&mut self) {
        self.store.rollback();
        self.undo();
    }

    fn undo(&mut self) {
        while let Some(change) = self.journal.pop() {
            match change {
                Undo::Session(uin, Some(live)) => {
                    self.sessions.insert(uin, live);
                }
                Undo::Session(uin, None) => {
                    self.sessions.remove(&uin);
                }
                Undo::Queue(uin, totals) => self.put_queue(uin, totals),
                Undo::AskedOnce(uin, peer, added) => {
                    let asked = &mut self.limits.entry(uin).or_default().asked_once;
                    if added {
                        asked.remove(&peer);
                    } else {
                        asked.insert(peer);
                    }
                }
            }
        }
    }

    fn put_queue(&mut self, uin: u64, totals: QueueTotals) {
        if totals == QueueTotals::default() {
            self.queues.remove(&uin);
        } else {
            self.queues.insert(uin, totals);
        }
    }

    fn change_queue(&mut self, uin: u64, change: impl FnOnce(&mut QueueTotals)) {
        let before = self.queue(uin);
        let mut after = before;
        change(&mut after);
        self.journal.push(Undo::Queue(uin, before));
        self.put_queue(uin, after);
    }

    /// What is queued for `uin`.
    pub(crate) fn queue(&self, uin: u64) -> QueueTotals {
        self.queues.get(&uin).copied().unwrap_or_default()
    }

    pub(crate) fn limits(&mut self, uin: u64) -> &mut Limits {
        self.limits.entry(uin).or_default()
    }

    /// Marks a first verification request to `peer` (the quirk); whether it
    /// was the first.
    pub(crate) fn ask_once(&mut self, uin: u64, peer: u64) -> bool {
        let first = self.limits(uin).asked_once.insert(peer);
        if first {
            self.journal.push(Undo::AskedOnce(uin, peer, true));
        } else {
            self.limits(uin).asked_once.remove(&peer);
            self.journal.push(Undo::AskedOnce(uin, peer, false));
        }
        first
    }

    /// Whether `uin` is held (answered `RES=3`) at `now`.
    pub(crate) fn is_held(&mut self, uin: u64, now: Instant) -> bool {
        match self.held.get(&uin) {
            Some(&until) if now < until => true,
            Some(_) => {
                self.held.remove(&uin);
                false
            }
            None => false,
        }
    }

    /// The presence friends see: `None` when logged out.
    pub(crate) fn presence(&self, uin: u64) -> Option<Status> {
        self.sessions.get(&uin).map(|live| live.status)
    }

    /// Changes a user's presence and tells every logged-in user who lists
    /// them, when what they are shown changes (invisible shows as offline).
    pub(crate) fn set_presence(
        &mut self,
        uin: u64,
        new: Option<Status>,
        ip: IpAddr,
        now: Instant,
        caps: Caps,
    ) -> Result<(), StoreError> {
        let old = self.presence(uin);
        let previous = match new {
            Some(status) => self.sessions.insert(
                uin,
                Live {
                    ip,
                    last_seen: now,
                    status,
                },
            ),
            None => self.sessions.remove(&uin),
        };
        self.journal.push(Undo::Session(uin, previous));
        let after = announced(new);
        if announced(old) == after {
            return Ok(());
        }
        for watcher in self.store.watchers(uin)? {
            if self.sessions.contains_key(&watcher) {
                self.notify(watcher, uin, after, caps)?;
            }
        }
        Ok(())
    }

    /// Queues a status notice of `from` for `to`, replacing any older one
    /// still waiting (only the latest status matters), within the cap.
    fn notify(&mut self, to: u64, from: u64, status: u32, caps: Caps) -> Result<(), StoreError> {
        let (dropped, bytes) = self.store.drop_status_notices(to, from)?;
        if dropped > 0 {
            self.change_queue(to, |q| {
                q.count -= dropped;
                q.bytes -= bytes;
            });
        }
        let notice = Queued {
            kind: httpqq::MessageKind::StatusChange.code(),
            from,
            text: status.to_string(),
        };
        if self.enqueue(to, notice, caps)? == Queuing::Full {
            log::info!(target: "httpqq::server", "status notice for {to} dropped: the queue is full");
        }
        Ok(())
    }

    /// Queues a message, unless the recipient's queue is at its cap.
    pub(crate) fn enqueue(
        &mut self,
        to: u64,
        message: Queued,
        caps: Caps,
    ) -> Result<Queuing, StoreError> {
        let queue = self.queue(to);
        let bytes = message.text.len();
        if queue.count >= caps.messages || queue.bytes + bytes > caps.bytes {
            return Ok(Queuing::Full);
        }
        self.store.enqueue(to, &message)?;
        self.change_queue(to, |q| {
            q.count += 1;
            q.bytes += bytes;
        });
        Ok(Queuing::Queued)
    }

    /// Confirms the user's last batch (its reply arrived).
    pub(crate) fn confirm(&mut self, uin: u64) -> Result<(), StoreError> {
        if self.queue(uin).in_flight > 0 {
            self.store.confirm(uin)?;
            self.change_queue(uin, |q| q.in_flight = 0);
        }
        Ok(())
    }

    /// GetMsgEx: confirms the last batch, and takes the next (at most
    /// `max`), which stays stored until confirmed.
    pub(crate) fn take_batch(&mut self, uin: u64, max: usize) -> Result<Vec<Queued>, StoreError> {
        self.confirm(uin)?;
        if self.queue(uin).count == 0 {
            return Ok(Vec::new());
        }
        let batch = self.store.take_batch(uin, max)?;
        let bytes: usize = batch.iter().map(|m| m.text.len()).sum();
        let taken = batch.len();
        self.change_queue(uin, |q| {
            q.count = q.count.saturating_sub(taken);
            q.bytes = q.bytes.saturating_sub(bytes);
            q.in_flight = taken;
        });
        Ok(batch)
    }

    /// Ends every session silent for longer than `idle`, as a logout.
    pub(crate) fn expire(
        &mut self,
        idle: Duration,
        now: Instant,
        caps: Caps,
    ) -> Result<usize, StoreError> {
        let expired: Vec<(u64, IpAddr)> = self
            .sessions
            .iter()
            .filter(|(_, live)| now.duration_since(live.last_seen) > idle)
            .map(|(&uin, live)| (uin, live.ip))
            .collect();
        for &(uin, ip) in &expired {
            log::info!(target: "httpqq::server", "session of {uin} expired");
            self.set_presence(uin, None, ip, now, caps)?;
        }
        Ok(expired.len())
    }

    /// Follows what another process (`httpqq-server accounts`) changed in
    /// the store since the last look: a session whose account was removed,
    /// or whose password changed, ends (its friends are told), and the old
    /// password's fast path with it. One cheap look when nothing changed.
    pub(crate) fn follow_external_changes(
        &mut self,
        now: Instant,
        caps: Caps,
    ) -> Result<(), StoreError> {
        let version = self.store.data_version()?;
        if version == self.data_version {
            return Ok(());
        }
        self.data_version = version;
        self.transaction(|world| {
            let sessions: Vec<(u64, IpAddr)> = world
                .sessions
                .iter()
                .map(|(&uin, live)| (uin, live.ip))
                .collect();
            for (uin, ip) in sessions {
                let stored = world.store.password(uin)?;
                if stored.is_some() && stored.as_deref() == world.lockout.logged_in_with(uin) {
                    continue;
                }
                log::info!(target: "httpqq::server", "session of {uin} ended: its account was removed or its password changed");
                world.end_session(uin, ip, now, caps)?;
            }
            Ok(())
        })
    }

    /// Ends `uin`'s session (its friends are told) and forgets its fast
    /// path: its account was removed, or its password changed.
    pub(crate) fn end_session(
        &mut self,
        uin: u64,
        ip: IpAddr,
        now: Instant,
        caps: Caps,
    ) -> Result<(), StoreError> {
        self.set_presence(uin, None, ip, now, caps)?;
        self.lockout.forget(uin);
        Ok(())
    }

    /// Forgets every session, as a server restarted from its database
    /// would, and puts each last batch back in front of its queue.
    pub(crate) fn forget_sessions(&mut self) -> Result<(), StoreError> {
        self.sessions.clear();
        self.store.requeue_in_flight()?;
        self.store.commit()?;
        self.queues = self.store.queue_totals()?.into_iter().collect();
        Ok(())
    }

    /// Drops rate-limit and lockout records that no longer limit anything
    /// (the expiry sweeper calls this), so that memory does not grow with
    /// every address that ever guessed a password.
    pub(crate) fn prune(&mut self, login_window: Duration, now: Instant) {
        self.lockout.prune(login_window, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Sqlite;

    #[test]
    fn rate_limit_slides() {
        let limit = RateLimit {
            count: 2,
            window: Duration::from_secs(10),
        };
        let start = Instant::now();
        let mut times = VecDeque::new();
        assert!(allow(&mut times, limit, start));
        assert!(allow(&mut times, limit, start + Duration::from_secs(1)));
        assert!(!allow(&mut times, limit, start + Duration::from_secs(2)));
        assert!(allow(&mut times, limit, start + Duration::from_secs(10)));
    }

    fn world() -> World {
        World::new(Box::new(Sqlite::in_memory().unwrap())).unwrap()
    }

    const CAPS: Caps = Caps {
        messages: 2,
        bytes: 10,
    };

    fn text(text: &str) -> Queued {
        Queued {
            kind: httpqq::MessageKind::Text.code(),
            from: 1,
            text: text.into(),
        }
    }

    #[test]
    fn queues_are_capped_by_count_and_by_bytes() {
        let mut w = world();
        assert_eq!(w.enqueue(2, text("12345"), CAPS).unwrap(), Queuing::Queued);
        assert_eq!(
            w.enqueue(2, text("123456"), CAPS).unwrap(),
            Queuing::Full,
            "bytes"
        );
        assert_eq!(w.enqueue(2, text("1"), CAPS).unwrap(), Queuing::Queued);
        assert_eq!(
            w.enqueue(2, text("1"), CAPS).unwrap(),
            Queuing::Full,
            "count"
        );
        w.finish().unwrap();
        assert_eq!(w.take_batch(2, 32).unwrap().len(), 2);
        assert_eq!(w.queue(2).in_flight, 2);
        assert_eq!(w.enqueue(2, text("1"), CAPS).unwrap(), Queuing::Queued);
    }

    #[test]
    fn an_aborted_request_changes_nothing_in_memory_or_store() {
        let mut w = world();
        w.enqueue(2, text("kept"), CAPS).unwrap();
        w.finish().unwrap();
        let ip: IpAddr = [127, 0, 0, 1].into();
        let now = Instant::now();
        w.set_presence(2, Some(Status::Online), ip, now, CAPS)
            .unwrap();
        let batch = w.take_batch(2, 32).unwrap();
        assert_eq!(batch.len(), 1);
        w.ask_once(2, 5);
        w.abort();
        assert!(w.sessions.is_empty());
        assert_eq!(
            w.queue(2),
            QueueTotals {
                count: 1,
                bytes: 4,
                in_flight: 0
            }
        );
        assert!(w.limits(2).asked_once.is_empty());
        assert_eq!(w.take_batch(2, 32).unwrap(), [text("kept")]);
    }
}
