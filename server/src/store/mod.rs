//! Where the server keeps what must survive a restart: accounts (with
//! hashed passwords), friend lists, pending verifications and undelivered
//! messages. Sessions, presence and rate limits live in memory
//! ([`World`](crate::world::World)).
//!
//! [`Storage`] is the boundary: the commands read and write through it, a
//! request's writes form one transaction, and nothing is acknowledged
//! before [`Storage::commit`] returned. [`Sqlite`] implements it on a file
//! (WAL, `synchronous=FULL`: durable across power loss) or in memory. A
//! server past one machine would implement it on a shared database
//! (docs/SCALING.md).

mod file;
mod schema;
mod sqlite;

pub(crate) use file::{Lock, Watch};
pub(crate) use sqlite::Sqlite;

use crate::accounts::{AddPolicy, Profile};

/// A storage operation that failed: the request is answered with the NULL
/// and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub(crate) String);

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError(err.to_string())
    }
}

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// One account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountRow {
    pub uin: u64,
    /// The PHC string of the password's hash (see [`crate::passwords`]).
    pub password: String,
    pub nickname: String,
    pub face: u32,
    pub add_policy: AddPolicy,
    pub profile: Profile,
}

/// What Query_Stat and AddToList need of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Card {
    pub nickname: String,
    pub face: u32,
    pub add_policy: AddPolicy,
}

/// One queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Queued {
    /// `MT`.
    pub kind: u32,
    /// `UN`: the sender.
    pub from: u64,
    /// `MG`.
    pub text: String,
}

/// How much is queued for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct QueueTotals {
    /// Messages waiting (not in flight).
    pub count: usize,
    /// Their text, in bytes.
    pub bytes: usize,
    /// Messages of the last batch, not confirmed yet.
    pub in_flight: usize,
}

/// The server's persistent state. Reads see the writes of the transaction
/// in progress; [`Storage::commit`] makes them durable, and
/// [`Storage::rollback`] forgets them.
pub(crate) trait Storage: Send {
    /// Whether this storage was created now (so it must be seeded).
    fn is_new(&self) -> bool;

    /// An account, whole.
    fn account(&mut self, uin: u64) -> Result<Option<AccountRow>>;
    /// An account's nickname, face and add policy.
    fn card(&mut self, uin: u64) -> Result<Option<Card>>;
    /// An account's stored password hash.
    fn password(&mut self, uin: u64) -> Result<Option<String>>;
    /// Replaces an account's password hash; whether the account exists.
    fn set_password(&mut self, uin: u64, hash: &str) -> Result<bool>;
    /// Adds accounts (with their friend lists), all or none; fails on a UIN
    /// already taken.
    fn insert_accounts(&mut self, accounts: &[(AccountRow, Vec<u64>)]) -> Result<()>;
    /// Removes an account, its friend list, its place in others' lists,
    /// its pending requests and its queue; whether it existed.
    fn remove_account(&mut self, uin: u64) -> Result<bool>;
    /// Every account's UIN and nickname, in UIN order (at most `limit`,
    /// from `after`).
    fn accounts(&mut self, after: u64, limit: usize) -> Result<Vec<(u64, String)>>;

    /// A friend list, in order.
    fn friends(&mut self, uin: u64) -> Result<Vec<u64>>;
    /// Who lists `uin` as a friend.
    fn watchers(&mut self, uin: u64) -> Result<Vec<u64>>;
    /// Adds `friend` at the end of `uin`'s list; false if there already.
    fn add_friend(&mut self, uin: u64, friend: u64) -> Result<bool>;
    /// Removes `friend` from `uin`'s list; false if not there.
    fn remove_friend(&mut self, uin: u64, friend: u64) -> Result<bool>;

    /// Records that `sender` asked `recipient` to approve them.
    fn add_pending(&mut self, recipient: u64, sender: u64) -> Result<()>;
    /// Whether `sender` asked `recipient` and got no answer yet.
    fn has_pending(&mut self, recipient: u64, sender: u64) -> Result<bool>;
    /// Takes the pending request of `sender` to `recipient`; whether there
    /// was one.
    fn take_pending(&mut self, recipient: u64, sender: u64) -> Result<bool>;

    /// Queues a message last.
    fn enqueue(&mut self, recipient: u64, message: &Queued) -> Result<()>;
    /// Removes the waiting status notices of `sender` to `recipient` (a
    /// newer one replaces them); how many, and their bytes.
    fn drop_status_notices(&mut self, recipient: u64, sender: u64) -> Result<(usize, usize)>;
    /// Marks the oldest `max` waiting messages in flight and returns them.
    fn take_batch(&mut self, recipient: u64, max: usize) -> Result<Vec<Queued>>;
    /// Deletes the messages in flight (their reply arrived).
    fn confirm(&mut self, recipient: u64) -> Result<()>;
    /// Puts every batch in flight back in front of its queue (at start: a
    /// batch whose reply may have been lost is delivered again).
    fn requeue_in_flight(&mut self) -> Result<()>;
    /// The queue of every user who has one.
    fn queue_totals(&mut self) -> Result<Vec<(u64, QueueTotals)>>;

    /// Makes the transaction's writes durable.
    fn commit(&mut self) -> Result<()>;
    /// Forgets the transaction's writes.
    fn rollback(&mut self);
    /// Whether writes are waiting for [`Storage::commit`].
    fn dirty(&self) -> bool;
    /// Makes every write fail from now on (`true`), as a full or read-only
    /// disk would, or work again: a test control, and what a server whose
    /// database was deleted does.
    fn fail_writes(&mut self, on: bool) -> Result<()>;
    /// A number that changes when another process (`httpqq-server
    /// accounts`) committed changes since the last call.
    fn data_version(&mut self) -> Result<i64>;
}
