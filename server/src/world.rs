//! The server's state: accounts, friend lists, sessions, presence, message
//! queues and pending verifications, with the rules that change them.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use httpqq::{PasswordHash, Status};
use serde::{Deserialize, Serialize};

use crate::accounts::{Account, Accounts, AccountsError};
use crate::config::RateLimit;

/// One queued message for a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Queued {
    /// `MT`.
    pub kind: u32,
    /// `UN`: the sender.
    pub from: u64,
    /// `MG`: the content.
    pub text: String,
}

/// A logged-in user.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    pub ip: IpAddr,
    pub last_seen: Instant,
    pub status: Status,
}

/// Everything known about one user.
#[derive(Debug)]
pub(crate) struct User {
    pub account: Account,
    pub password: PasswordHash,
    /// Who lists this user as a friend (the reverse of friend lists).
    pub listed_by: BTreeSet<u64>,
    pub queue: VecDeque<Queued>,
    /// The messages the last GetMsgEx delivered, kept in the state file
    /// until the user's next GetMsgEx (or Logout) shows the reply arrived:
    /// a crash in between delivers them again rather than losing them.
    pub in_flight: Vec<Queued>,
    /// Who asked this user to approve them (Ack_AddToList `CD=2`).
    pub pending: BTreeSet<u64>,
    /// Peers this user already sent one verification request to (quirk).
    pub asked_once: BTreeSet<u64>,
    pub sent: VecDeque<Instant>,
    pub status_changes: VecDeque<Instant>,
    pub failed_logins: VecDeque<Instant>,
}

/// What a state file holds: everything that must survive a restart.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    #[serde(default)]
    pub account: Vec<Account>,
    #[serde(default)]
    pub queued: Vec<QueuedFor>,
    #[serde(default)]
    pub pending: Vec<PendingFor>,
}

/// A queued message and its recipient, in a snapshot.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct QueuedFor {
    pub to: u64,
    #[serde(flatten)]
    pub message: Queued,
}

/// A pending verification request, in a snapshot.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PendingFor {
    pub to: u64,
    pub from: u64,
}

/// The whole state, behind the server's one lock.
#[derive(Debug)]
pub(crate) struct World {
    pub users: HashMap<u64, User>,
    pub sessions: HashMap<u64, Live>,
    /// UINs answered `RES=3` to everything until then (a test control).
    pub held: HashMap<u64, Instant>,
    /// Bumped by every change that a state file must record.
    pub generation: u64,
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
    while times
        .front()
        .is_some_and(|&t| now.duration_since(t) >= limit.window)
    {
        times.pop_front();
    }
    if times.len() >= limit.count as usize {
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
    /// A world from accounts (and, when restoring, queued messages and
    /// pending requests).
    pub(crate) fn new(snapshot: Snapshot) -> Result<World, AccountsError> {
        let accounts = Accounts {
            accounts: snapshot.account,
        };
        accounts.validate()?;
        let mut users = HashMap::with_capacity(accounts.accounts.len());
        for account in accounts.accounts {
            let password = account.password_hash()?;
            users.insert(
                account.uin,
                User {
                    account,
                    password,
                    listed_by: BTreeSet::new(),
                    queue: VecDeque::new(),
                    in_flight: Vec::new(),
                    pending: BTreeSet::new(),
                    asked_once: BTreeSet::new(),
                    sent: VecDeque::new(),
                    status_changes: VecDeque::new(),
                    failed_logins: VecDeque::new(),
                },
            );
        }
        let listings: Vec<(u64, u64)> = users
            .values()
            .flat_map(|u| u.account.friends.iter().map(move |&f| (f, u.account.uin)))
            .collect();
        for (friend, by) in listings {
            if let Some(user) = users.get_mut(&friend) {
                user.listed_by.insert(by);
            }
        }
        for QueuedFor { to, message } in snapshot.queued {
            if let Some(user) = users.get_mut(&to) {
                user.queue.push_back(message);
            }
        }
        for PendingFor { to, from } in snapshot.pending {
            if let Some(user) = users.get_mut(&to) {
                user.pending.insert(from);
            }
        }
        Ok(World {
            users,
            sessions: HashMap::new(),
            held: HashMap::new(),
            generation: 0,
        })
    }

    /// What a state file must hold, as TOML.
    pub(crate) fn snapshot_toml(&self) -> Result<String, toml::ser::Error> {
        let mut uins: Vec<u64> = self.users.keys().copied().collect();
        uins.sort_unstable();
        let mut snapshot = Snapshot::default();
        for uin in uins {
            let user = &self.users[&uin];
            snapshot.account.push(user.account.clone());
            snapshot
                .queued
                .extend(
                    user.in_flight
                        .iter()
                        .chain(&user.queue)
                        .map(|message| QueuedFor {
                            to: uin,
                            message: message.clone(),
                        }),
                );
            snapshot.pending.extend(
                user.pending
                    .iter()
                    .map(|&from| PendingFor { to: uin, from }),
            );
        }
        toml::to_string(&snapshot)
    }

    pub(crate) fn changed(&mut self) {
        self.generation += 1;
    }

    /// The presence friends see: `None` when logged out.
    pub(crate) fn presence(&self, uin: u64) -> Option<Status> {
        self.sessions.get(&uin).map(|live| live.status)
    }

    /// Changes a user's presence and tells every logged-in user who lists
    /// them, when what they are shown changes (invisible shows as offline).
    pub(crate) fn set_presence(&mut self, uin: u64, new: Option<Status>, ip: IpAddr, now: Instant) {
        let old = self.presence(uin);
        match new {
            Some(status) => {
                self.sessions.insert(
                    uin,
                    Live {
                        ip,
                        last_seen: now,
                        status,
                    },
                );
            }
            None => {
                self.sessions.remove(&uin);
            }
        }
        let (before, after) = (announced(old), announced(new));
        if before == after {
            return;
        }
        let watchers: Vec<u64> = self
            .users
            .get(&uin)
            .map(|u| u.listed_by.iter().copied().collect())
            .unwrap_or_default();
        for watcher in watchers {
            if self.sessions.contains_key(&watcher) {
                self.enqueue(
                    watcher,
                    Queued {
                        kind: 99,
                        from: uin,
                        text: after.to_string(),
                    },
                    usize::MAX,
                );
            }
        }
        self.changed();
    }

    /// Queues a message; `false` when the recipient's queue is full.
    pub(crate) fn enqueue(&mut self, to: u64, message: Queued, cap: usize) -> bool {
        match self.users.get_mut(&to) {
            Some(user) if user.queue.len() < cap => {
                user.queue.push_back(message);
                self.generation += 1;
                true
            }
            _ => false,
        }
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

    /// Forgets every session, as a server restarted from its state file
    /// would: nobody is told (nobody is connected), and each user's last
    /// fetched batch, unconfirmed, goes back to the front of the queue.
    pub(crate) fn forget_sessions(&mut self) {
        self.sessions.clear();
        for user in self.users.values_mut() {
            let batch = std::mem::take(&mut user.in_flight);
            for message in batch.into_iter().rev() {
                user.queue.push_front(message);
            }
        }
    }

    /// Ends every session silent for longer than `idle`, as a logout.
    pub(crate) fn expire(&mut self, idle: Duration, now: Instant) -> usize {
        let expired: Vec<(u64, IpAddr)> = self
            .sessions
            .iter()
            .filter(|(_, live)| now.duration_since(live.last_seen) > idle)
            .map(|(&uin, live)| (uin, live.ip))
            .collect();
        for &(uin, ip) in &expired {
            log::info!(target: "httpqq::server", "session of {uin} expired");
            self.set_presence(uin, None, ip, now);
        }
        expired.len()
    }

    /// Adds `friend` to `uin`'s list (once).
    pub(crate) fn add_friend(&mut self, uin: u64, friend: u64) {
        let Some(user) = self.users.get_mut(&uin) else {
            return;
        };
        if !user.account.friends.contains(&friend) {
            user.account.friends.push(friend);
        }
        if let Some(target) = self.users.get_mut(&friend) {
            target.listed_by.insert(uin);
        }
        self.changed();
    }

    /// Removes `friend` from `uin`'s list; `false` if it was not there.
    pub(crate) fn remove_friend(&mut self, uin: u64, friend: u64) -> bool {
        let Some(user) = self.users.get_mut(&uin) else {
            return false;
        };
        let Some(at) = user.account.friends.iter().position(|&f| f == friend) else {
            return false;
        };
        user.account.friends.remove(at);
        if let Some(target) = self.users.get_mut(&friend) {
            target.listed_by.remove(&uin);
        }
        self.changed();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn snapshot_round_trips() {
        let mut world = World::new(Snapshot {
            account: Accounts::demo().accounts,
            ..Default::default()
        })
        .unwrap();
        world.enqueue(
            10002,
            Queued {
                kind: 9,
                from: 10001,
                text: "a,b&c\r\n好".into(),
            },
            10,
        );
        world.users.get_mut(&10003).unwrap().pending.insert(10001);
        let text = world.snapshot_toml().unwrap();
        let back = World::new(toml::from_str(&text).unwrap()).unwrap();
        assert_eq!(back.users[&10002].queue, world.users[&10002].queue);
        assert!(back.users[&10003].pending.contains(&10001));
        assert!(back.users[&10002].listed_by.contains(&10001));
    }
}
