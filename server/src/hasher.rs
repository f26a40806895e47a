//! The threads that check passwords against their argon2id hashes, off
//! the event loops: a strong hash takes milliseconds of a core, and on a
//! loop it would hold up every connection the loop serves.
//!
//! A few threads (half the cores, at least one), at a lower priority than
//! the loops (Linux: nice 10), take checks from one queue per address in
//! turn, so that an address with many logins waiting (a flood, or a bot
//! host starting hundreds of accounts) delays each other address by one
//! check at most. The queues are bounded, in total and per address
//! ([`Config::max_hashing`], [`Config::max_hashing_per_ip`]): past either
//! bound a login is answered `RES=3` at once, without a hash, so a flood
//! costs the server at most what the pool can do.
//!
//! [`Config::max_hashing`]: crate::Config::max_hashing
//! [`Config::max_hashing_per_ip`]: crate::Config::max_hashing_per_ip

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

type Job = Box<dyn FnOnce() + Send>;

/// The pool of checking threads and their queues.
pub(crate) struct Hasher {
    queues: Arc<Queues>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

struct Queues {
    state: Mutex<State>,
    ready: Condvar,
    total: usize,
    per_ip: usize,
}

#[derive(Default)]
struct State {
    /// Checks waiting, per address.
    waiting: HashMap<IpAddr, VecDeque<Job>>,
    /// The addresses with checks waiting, in the order they are served.
    turns: VecDeque<IpAddr>,
    /// Checks queued or running, in all and per address.
    queued: usize,
    per_ip: HashMap<IpAddr, usize>,
    closed: bool,
}

impl Queues {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next check, from the address whose turn it is; `None` once the
    /// pool is dropped and nothing waits.
    fn next(&self) -> Option<(IpAddr, Job)> {
        let mut state = self.lock();
        loop {
            if let Some(ip) = state.turns.pop_front() {
                let Some(queue) = state.waiting.get_mut(&ip) else {
                    continue;
                };
                let Some(job) = queue.pop_front() else {
                    state.waiting.remove(&ip);
                    continue;
                };
                if queue.is_empty() {
                    state.waiting.remove(&ip);
                } else {
                    state.turns.push_back(ip);
                }
                return Some((ip, job));
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// A check of `ip`'s has ended.
    fn done(&self, ip: IpAddr) {
        let mut state = self.lock();
        state.queued = state.queued.saturating_sub(1);
        if let Some(mine) = state.per_ip.get_mut(&ip) {
            *mine -= 1;
            if *mine == 0 {
                state.per_ip.remove(&ip);
            }
        }
    }
}

impl Hasher {
    /// Starts `threads` checking threads (0: half the cores, at least one),
    /// with at most `total` checks queued or running, `per_ip` of them for
    /// one address.
    pub(crate) fn start(threads: usize, total: usize, per_ip: usize) -> std::io::Result<Hasher> {
        let threads = match threads {
            0 => thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            n => n,
        };
        let queues = Arc::new(Queues {
            state: Mutex::default(),
            ready: Condvar::new(),
            total: total.max(1),
            per_ip: per_ip.max(1),
        });
        let hasher = Hasher {
            queues: Arc::clone(&queues),
            threads: Mutex::new(Vec::with_capacity(threads)),
        };
        for n in 0..threads {
            let queues = Arc::clone(&queues);
            let handle = thread::Builder::new()
                .name(format!("httpqq-hash-{n}"))
                .spawn(move || work(&queues))?;
            hasher
                .threads
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(handle);
        }
        Ok(hasher)
    }

    /// Queues a check for a login from `ip`; false (and `check` dropped)
    /// when the bounds are reached: answer `RES=3` without a hash.
    pub(crate) fn submit(&self, ip: IpAddr, check: impl FnOnce() + Send + 'static) -> bool {
        let mut state = self.queues.lock();
        let mine = state.per_ip.get(&ip).copied().unwrap_or(0);
        if state.closed || state.queued >= self.queues.total || mine >= self.queues.per_ip {
            return false;
        }
        state.queued += 1;
        state.per_ip.insert(ip, mine + 1);
        let queue = state.waiting.entry(ip).or_default();
        queue.push_back(Box::new(check));
        if queue.len() == 1 {
            state.turns.push_back(ip);
        }
        drop(state);
        self.queues.ready.notify_one();
        true
    }
}

impl Drop for Hasher {
    /// Lets the threads finish what is queued, and waits for them.
    fn drop(&mut self) {
        self.queues.lock().closed = true;
        self.queues.ready.notify_all();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for handle in threads {
            let _ = handle.join();
        }
    }
}

/// A checking thread: lowers its priority, then runs checks until the
/// pool is dropped.
fn work(queues: &Queues) {
    lower_priority();
    while let Some((ip, job)) = queues.next() {
        // The place is given back however the check ends.
        let _ = catch_unwind(AssertUnwindSafe(job));
        queues.done(ip);
    }
}

/// Makes this thread yield to the event loops: nice 10 (Linux sets it per
/// thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take no pointers; they only
        // change this thread's scheduling priority.
        let lowered = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, 10)
        };
        if lowered != 0 {
            log::debug!(target: "httpqq::server", "cannot lower the hashing thread's priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{channel, sync_channel, Receiver};
    use std::time::{Duration, Instant};

    #[test]
    fn checks_are_bounded_in_total_and_per_address() {
        let hasher = Hasher::start(1, 3, 2).unwrap();
        let (release, gate) = sync_channel::<()>(0);
        let gate = Arc::new(Mutex::new(gate));
        let blocked = |gate: &Arc<Mutex<Receiver<()>>>| {
            let gate = Arc::clone(gate);
            move || {
                let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(5));
            }
        };
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!(hasher.submit(a, blocked(&gate)));
        assert!(hasher.submit(a, blocked(&gate)));
        assert!(!hasher.submit(a, blocked(&gate)), "two per address");
        assert!(hasher.submit(b, blocked(&gate)));
        assert!(!hasher.submit(b, blocked(&gate)), "three in all");
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        // Places come back as checks end, a panic's too.
        let deadline = Instant::now() + Duration::from_secs(5);
        while hasher.queues.lock().queued > 0 {
            assert!(Instant::now() < deadline);
            thread::sleep(Duration::from_millis(5));
        }
        assert!(hasher.submit(a, || panic!("a panicking check")));
        let (done, finished) = channel();
        assert!(hasher.submit(a, move || done.send(()).unwrap()));
        finished.recv_timeout(Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn addresses_take_turns() {
        let hasher = Hasher::start(1, 100, 100).unwrap();
        let (release, gate) = sync_channel::<()>(0);
        let (order, served) = channel();
        // The one thread is held by a first check while the others queue.
        let flood: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        let (started, running) = channel();
        assert!(hasher.submit(flood, move || {
            started.send(()).unwrap();
            let _ = gate.recv_timeout(Duration::from_secs(5));
        }));
        running.recv_timeout(Duration::from_secs(5)).unwrap();
        for n in 0..10 {
            let order = order.clone();
            assert!(hasher.submit(flood, move || order.send(("flood", n)).unwrap()));
        }
        let order2 = order.clone();
        assert!(hasher.submit(other, move || order2.send(("other", 0)).unwrap()));
        release.send(()).unwrap();
        let first_two: Vec<_> = (0..2)
            .map(|_| served.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        assert!(
            first_two.contains(&("other", 0)),
            "the other address waits one check at most: {first_two:?}"
        );
    }
}
