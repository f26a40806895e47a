//! A bounded pool of threads with a timer heap: it runs the loops of any
//! number of agents, and blocking calls handed to it, on at most
//! `max_in_flight` worker threads plus one timer thread. An agent costs no
//! thread while it waits (for its interval, a backoff, a penalty): only a
//! request in flight holds a worker.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long an idle worker (or the timer thread, with no timers) waits
/// before it ends.
const IDLE_EXIT: Duration = Duration::from_secs(10);

/// The default bound on requests in flight (so on worker threads).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// Runs agents (and blocking calls) on a bounded number of threads.
///
/// Every agent runs on a runtime: [`Runtime::global`] unless its builder is
/// given another. A runtime has one timer thread and at most
/// `max_in_flight` worker threads, started as work comes and ended after
/// 10 s without any: an agent waiting for its next poll holds no thread,
/// so thousands of agents share a few threads. Size `max_in_flight` for
/// the requests you expect at once: about polls per second × seconds per
/// reply (1,000 agents polling every 2 s against 100 ms replies keep about
/// 50 in flight); past it, requests wait their turn.
///
/// Cheap to clone (clones share the threads). The threads end when the
/// last clone, and the last agent on it, is gone.
///
/// ```
/// let runtime = httpqq::Runtime::new(8);
/// let answer = runtime.spawn(|| 6 * 7);
/// assert_eq!(answer.wait(), 42);
/// ```
#[derive(Clone)]
pub struct Runtime {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("max_in_flight", &self.handle.inner.max_in_flight)
            .field("threads", &self.threads())
            .finish()
    }
}

/// Ends the threads when the last [`Runtime`] clone goes.
struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let mut sched = self.inner.lock();
        sched.shutdown = true;
        drop(sched);
        self.inner.timer_cv.notify_all();
        self.inner.work_cv.notify_all();
    }
}

struct Inner {
    sched: Mutex<Sched>,
    /// The timer thread waits here for the earliest timer or a new one.
    timer_cv: Condvar,
    /// Idle workers wait here for jobs.
    work_cv: Condvar,
    max_in_flight: usize,
}

/// Something the runtime steps again and again (an agent's loop).
pub(crate) trait Task: Send + Sync {
    /// Does what is due now (perhaps a blocking request) and says when to
    /// come back.
    fn run(&self) -> Next;

    /// A step panicked with `message`: the task is not run again (it is
    /// parked); this lets it tell whoever waits for it.
    fn panicked(&self, message: &str) {
        let _ = message;
    }
}

/// When to run a task again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// At once.
    Now,
    /// At this instant (or when woken, if sooner).
    At(Instant),
    /// Only when woken.
    Park,
}

/// A task's place in the runtime. It holds the task until it is
/// unregistered, so that a task finishes (an agent logs out, say) even when
/// everything else let go of it.
struct Slot {
    task: Arc<dyn Task>,
    /// Bumped by every scheduling, so that older timers are ignored.
    ticket: u64,
    run: Run,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Idle,
    Queued,
    /// Running; `again` if woken meanwhile (run once more at the end).
    Running {
        again: bool,
    },
}

enum Job {
    Step(u64),
    Call(Box<dyn FnOnce() + Send>),
}

struct Timer {
    at: Instant,
    id: u64,
    ticket: u64,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.id, self.ticket) == (other.at, other.id, other.ticket)
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.id, self.ticket).cmp(&(other.at, other.id, other.ticket))
    }
}

#[derive(Default)]
struct Sched {
    timers: BinaryHeap<Reverse<Timer>>,
    jobs: VecDeque<Job>,
    /// (A `BTreeMap`: its nodes are plainly reachable from the runtime, so
    /// leak checkers do not call them "possibly lost" at exit.)
    tasks: BTreeMap<u64, Slot>,
    next_id: u64,
    workers: usize,
    /// Workers waiting for a job.
    idle: usize,
    /// Of those, how many were woken and have not taken a job yet.
    notified: usize,
    timer_thread: bool,
    shutdown: bool,
}

impl Runtime {
    /// A runtime of its own, with at most `max_in_flight` worker threads
    /// (at least 1).
    pub fn new(max_in_flight: usize) -> Runtime {
        Runtime {
            handle: Arc::new(Handle {
                inner: Arc::new(Inner {
                    sched: Mutex::new(Sched::default()),
                    timer_cv: Condvar::new(),
                    work_cv: Condvar::new(),
                    max_in_flight: max_in_flight.max(1),
                }),
            }),
        }
    }

    /// The process's shared runtime, with at most
    /// [`DEFAULT_MAX_IN_FLIGHT`] (64) requests in flight. Agents built
    /// without [`AgentBuilder::runtime`](super::AgentBuilder::runtime) run
    /// here.
    pub fn global() -> Runtime {
        static GLOBAL: OnceLock<Runtime> = OnceLock::new();
        GLOBAL
            .get_or_init(|| Runtime::new(DEFAULT_MAX_IN_FLIGHT))
            .clone()
    }

    /// The bound on worker threads (requests in flight).
    pub fn max_in_flight(&self) -> usize {
        self.handle.inner.max_in_flight
    }

    /// The threads running now: workers, and the timer thread.
    pub fn threads(&self) -> usize {
        let sched = self.handle.inner.lock();
        sched.workers + usize::from(sched.timer_thread)
    }

    /// Runs a blocking call on one of the runtime's workers (waiting for a
    /// free one if all are busy). A panic in `work` comes back from
    /// [`Pending::wait`].
    pub fn spawn<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Pending<T> {
        let pending = Pending::new();
        let cell = Arc::clone(&pending.cell);
        self.spawn_job(Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(work));
            cell.complete(result);
        }));
        pending
    }

    fn spawn_job(&self, job: Box<dyn FnOnce() + Send>) {
        let inner = &self.handle.inner;
        let mut sched = inner.lock();
        sched.jobs.push_back(Job::Call(job));
        inner.dispatch(&mut sched);
    }

    /// Takes a task in (and holds it until [`Runtime::unregister`]); it runs
    /// when first woken.
    pub(crate) fn register(&self, task: Arc<dyn Task>) -> u64 {
        let mut sched = self.handle.inner.lock();
        sched.next_id += 1;
        let id = sched.next_id;
        sched.tasks.insert(
            id,
            Slot {
                task,
                ticket: 0,
                run: Run::Idle,
            },
        );
        id
    }

    /// Forgets a task (it will not run again).
    pub(crate) fn unregister(&self, id: u64) {
        self.handle.inner.lock().tasks.remove(&id);
    }

    /// Runs the task as soon as a worker is free.
    pub(crate) fn wake(&self, id: u64) {
        let inner = &self.handle.inner;
        let mut sched = inner.lock();
        inner.enqueue(&mut sched, id);
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Sched> {
        self.sched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a step of task `id` (once: a task never runs twice at once).
    fn enqueue(self: &Arc<Self>, sched: &mut Sched, id: u64) {
        let Some(slot) = sched.tasks.get_mut(&id) else {
            return;
        };
        slot.ticket += 1;
        match slot.run {
            Run::Idle => {
                slot.run = Run::Queued;
                sched.jobs.push_back(Job::Step(id));
                self.dispatch(sched);
            }
            Run::Queued | Run::Running { again: true } => {}
            Run::Running { again: false } => slot.run = Run::Running { again: true },
        }
    }

    /// Schedules a step of task `id` at `at`.
    fn schedule(self: &Arc<Self>, sched: &mut Sched, id: u64, at: Instant) {
        let Some(slot) = sched.tasks.get_mut(&id) else {
            return;
        };
        slot.ticket += 1;
        let ticket = slot.ticket;
        let earliest = sched.timers.peek().map(|Reverse(t)| t.at);
        sched.timers.push(Reverse(Timer { at, id, ticket }));
        if earliest.is_none_or(|e| at < e) {
            self.timer_cv.notify_one();
        }
        self.start_timer_thread(sched);
    }

    /// Hands queued jobs to a worker: an idle one, or a new one while
    /// fewer than `max_in_flight` run.
    fn dispatch(self: &Arc<Self>, sched: &mut Sched) {
        if sched.jobs.is_empty() {
            return;
        }
        if sched.idle > sched.notified {
            sched.notified += 1;
            self.work_cv.notify_one();
            return;
        }
        if sched.workers >= self.max_in_flight || sched.shutdown {
            return;
        }
        let inner = Arc::clone(self);
        let started = thread::Builder::new()
            .name("httpqq-worker".into())
            .spawn(move || inner.work());
        match started {
            Ok(_) => sched.workers += 1,
            Err(err) => {
                // The workers there are will take the job.
                log::error!(target: "httpqq", "cannot start a worker thread: {err}");
            }
        }
    }

    fn start_timer_thread(self: &Arc<Self>, sched: &mut Sched) {
        if sched.timer_thread || sched.shutdown {
            return;
        }
        let inner = Arc::clone(self);
        let started = thread::Builder::new()
            .name("httpqq-timer".into())
            .spawn(move || inner.keep_time());
        match started {
            Ok(_) => sched.timer_thread = true,
            Err(err) => log::error!(target: "httpqq", "cannot start the timer thread: {err}"),
        }
    }

    /// The timer thread: moves due timers to the job queue.
    fn keep_time(self: Arc<Self>) {
        let mut sched = self.lock();
        loop {
            if sched.shutdown {
                break;
            }
            let now = Instant::now();
            while let Some(Reverse(timer)) = sched.timers.peek() {
                if timer.at > now {
                    break;
                }
                let Some(Reverse(timer)) = sched.timers.pop() else {
                    break;
                };
                // A task scheduled again since has a newer ticket.
                if sched
                    .tasks
                    .get(&timer.id)
                    .is_some_and(|s| s.ticket == timer.ticket)
                {
                    self.enqueue(&mut sched, timer.id);
                }
            }
            sched = match sched.timers.peek() {
                Some(Reverse(timer)) => {
                    let wait = timer.at.saturating_duration_since(now);
                    self.timer_cv
                        .wait_timeout(sched, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => {
                    let (guard, waited) = self
                        .timer_cv
                        .wait_timeout(sched, IDLE_EXIT)
                        .unwrap_or_else(|p| p.into_inner());
                    // Nothing to time for a while: end; `schedule` starts
                    // a new timer thread when one is needed.
                    if waited.timed_out() && guard.timers.is_empty() {
                        sched = guard;
                        break;
                    }
                    guard
                }
            };
        }
        sched.timer_thread = false;
    }

    /// A worker thread: runs jobs until none come for a while.
    fn work(self: Arc<Self>) {
        let mut sched = self.lock();
        loop {
            if let Some(job) = sched.jobs.pop_front() {
                match job {
                    Job::Call(call) => {
                        drop(sched);
                        // `spawn` catches panics of its own work.
                        call();
                        sched = self.lock();
                    }
                    Job::Step(id) => sched = self.step(sched, id),
                }
                continue;
            }
            if sched.shutdown {
                break;
            }
            sched.idle += 1;
            let (guard, waited) = self
                .work_cv
                .wait_timeout(sched, IDLE_EXIT)
                .unwrap_or_else(|p| p.into_inner());
            sched = guard;
            sched.idle -= 1;
            sched.notified = sched.notified.saturating_sub(1);
            if waited.timed_out() && sched.jobs.is_empty() {
                break;
            }
        }
        sched.workers -= 1;
    }

    /// Runs one step of task `id` (without the lock) and schedules the
    /// next.
    fn step<'a>(
        self: &'a Arc<Self>,
        mut sched: MutexGuard<'a, Sched>,
        id: u64,
    ) -> MutexGuard<'a, Sched> {
        let Some(slot) = sched.tasks.get_mut(&id) else {
            return sched;
        };
        slot.run = Run::Running { again: false };
        let task = Arc::clone(&slot.task);
        drop(sched);
        let next = catch_unwind(AssertUnwindSafe(|| task.run())).unwrap_or_else(|payload| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            log::error!(target: "httpqq", "an agent's step panicked ({message}); the agent stops");
            // Telling may run the caller's code again (its event hook):
            // a second panic is caught too.
            let _ = catch_unwind(AssertUnwindSafe(|| task.panicked(&message)));
            Next::Park
        });
        drop(task);
        let mut sched = self.lock();
        let Some(slot) = sched.tasks.get_mut(&id) else {
            return sched;
        };
        let again = matches!(slot.run, Run::Running { again: true });
        slot.run = Run::Idle;
        match next {
            _ if again => self.enqueue(&mut sched, id),
            Next::Now => self.enqueue(&mut sched, id),
            Next::At(at) => self.schedule(&mut sched, id, at),
            Next::Park => {}
        }
        sched
    }
}

/// The result of work handed to a [`Runtime`], when it comes.
///
/// ```
/// use std::time::Duration;
/// let pending = httpqq::Runtime::global().spawn(|| "done");
/// // Wait in slices (e.g. to look for Ctrl-C in between)…
/// let value = loop {
///     if let Some(value) = pending.wait_timeout(Duration::from_millis(100)) {
///         break value;
///     }
/// };
/// assert_eq!(value, "done");
/// ```
pub struct Pending<T> {
    cell: Arc<Cell<T>>,
}

impl<T> std::fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("done", &self.is_done())
            .finish()
    }
}

struct Cell<T> {
    state: Mutex<CellState<T>>,
    done: Condvar,
}

type Callback<T> = Box<dyn FnOnce(thread::Result<T>) + Send>;

enum CellState<T> {
    Waiting(Option<Callback<T>>),
    Ready(thread::Result<T>),
    Taken,
}

impl<T> Cell<T> {
    fn lock(&self) -> MutexGuard<'_, CellState<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn complete(&self, result: thread::Result<T>) {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, CellState::Taken) {
            CellState::Waiting(Some(callback)) => {
                drop(state);
                callback(result);
            }
            _ => {
                *state = CellState::Ready(result);
                drop(state);
                self.done.notify_all();
            }
        }
    }
}

impl<T> Pending<T> {
    fn new() -> Self {
        Pending {
            cell: Arc::new(Cell {
                state: Mutex::new(CellState::Waiting(None)),
                done: Condvar::new(),
            }),
        }
    }

    /// Whether the work has finished.
    pub fn is_done(&self) -> bool {
        !matches!(*self.cell.lock(), CellState::Waiting(_))
    }

    /// Waits for the result.
    ///
    /// # Panics
    /// Resumes a panic of the work.
    pub fn wait(self) -> T {
        let mut state = self.cell.lock();
        loop {
            match std::mem::replace(&mut *state, CellState::Taken) {
                CellState::Ready(result) => return unwrap_result(result),
                waiting => {
                    *state = waiting;
                    state = self
                        .cell
                        .done
                        .wait(state)
                        .unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }

    /// Waits at most `limit`; the result if it came (taken: a later call
    /// gives `None`).
    ///
    /// # Panics
    /// Resumes a panic of the work.
    pub fn wait_timeout(&self, limit: Duration) -> Option<T> {
        let deadline = Instant::now() + limit;
        let mut state = self.cell.lock();
        loop {
            match std::mem::replace(&mut *state, CellState::Taken) {
                CellState::Ready(result) => return Some(unwrap_result(result)),
                CellState::Taken => return None,
                waiting => {
                    *state = waiting;
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    state = self
                        .cell
                        .done
                        .wait_timeout(state, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            }
        }
    }

    /// Calls `done` with the result when it comes: on the worker that
    /// finished the work, or at once if it has. `done` gets `Err` with the
    /// panic's payload if the work panicked.
    pub fn then(self, done: impl FnOnce(thread::Result<T>) + Send + 'static) {
        let mut state = self.cell.lock();
        match std::mem::replace(&mut *state, CellState::Taken) {
            CellState::Ready(result) => {
                drop(state);
                done(result);
            }
            CellState::Waiting(_) => *state = CellState::Waiting(Some(Box::new(done))),
            CellState::Taken => {}
        }
    }
}

fn unwrap_result<T>(result: thread::Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn workers_are_bounded_and_every_call_runs() {
        let runtime = Runtime::new(3);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let pending: Vec<_> = (0..12)
            .map(|n| {
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                runtime.spawn(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    n
                })
            })
            .collect();
        let results: Vec<usize> = pending.into_iter().map(Pending::wait).collect();
        assert_eq!(results, (0..12).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 3);
        assert!(runtime.threads() <= 3);
    }

    #[test]
    fn a_panic_in_spawned_work_comes_back_to_the_waiter() {
        let runtime = Runtime::new(1);
        let pending = runtime.spawn(|| -> u8 { panic!("boom") });
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| pending.wait()));
        assert!(caught.is_err());
        // The worker survived.
        assert_eq!(runtime.spawn(|| 1).wait(), 1);
    }

    #[test]
    fn then_runs_once_with_the_result() {
        let runtime = Runtime::new(1);
        let (tx, rx) = std::sync::mpsc::channel();
        runtime
            .spawn(|| 5)
            .then(move |result| tx.send(result.ok()).unwrap());
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Some(5));
    }

    struct Counter {
        runs: AtomicUsize,
        every: Duration,
        limit: usize,
    }

    impl Task for Counter {
        fn run(&self) -> Next {
            let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= self.limit {
                Next::Park
            } else {
                Next::At(Instant::now() + self.every)
            }
        }
    }

    #[test]
    fn tasks_run_on_their_timers_and_park() {
        let runtime = Runtime::new(2);
        let tasks: Vec<Arc<Counter>> = (0..50)
            .map(|_| {
                Arc::new(Counter {
                    runs: AtomicUsize::new(0),
                    every: Duration::from_millis(10),
                    limit: 5,
                })
            })
            .collect();
        for task in &tasks {
            let id = runtime.register(Arc::clone(task) as Arc<dyn Task>);
            runtime.wake(id);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while tasks.iter().any(|t| t.runs.load(Ordering::SeqCst) < 5) {
            assert!(Instant::now() < deadline, "tasks did not run on time");
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(50));
        assert!(
            tasks.iter().all(|t| t.runs.load(Ordering::SeqCst) == 5),
            "parked tasks ran again"
        );
        assert!(runtime.threads() <= 3, "{} threads", runtime.threads());
    }
}
