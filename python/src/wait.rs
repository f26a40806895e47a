//! How the native module waits: every network call and every wait for an
//! agent goes through here, without the GIL (other Python threads run
//! meanwhile), and interruptible by Ctrl-C on Python's main thread, where
//! signals are handled.
//!
//! - [`blocking`] runs a network call on the calling thread. On the main
//!   thread it runs under a core [`httpqq::Cancel`] scope whose check runs
//!   Python's signal handlers whenever a wait is interrupted by a signal
//!   or has lasted a slice (50 ms): Ctrl-C cuts the request short (its
//!   socket is shut down) and raises `KeyboardInterrupt`. No thread is
//!   handed the work, so a call costs what the request costs.
//! - [`in_slices`] waits for something the core offers with a timeout (an
//!   agent's next event, its end) in slices of [`SIGNAL_CHECK`], looking
//!   for signals in between.
//! - [`Cancel`] (`httpqq._native.Cancel`) is a core token Python code can
//!   run calls under and cancel from another thread: `httpqq.aio` runs each
//!   session call in the executor under one, and cancels it with the task,
//!   so the executor's thread is back at once.

use crate::errors::to_py;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

thread_local! {
    /// The tokens `Cancel.run` put this thread's calls under, innermost
    /// last.
    static CURRENT: RefCell<Vec<httpqq::Cancel>> = const { RefCell::new(Vec::new()) };
}

/// The token this thread's calls run under, if any.
pub(crate) fn current() -> Option<httpqq::Cancel> {
    CURRENT.with(|c| c.borrow().last().cloned())
}

/// A token that cuts calls short: `run(function, *args)` calls the
/// function with every network call it makes on this thread under the
/// token; `cancel()`, from any thread, ends them at once (they raise
/// `httpqq.Cancelled`). For `httpqq.aio`.
#[pyclass(frozen, module = "httpqq._native")]
pub(crate) struct Cancel {
    token: httpqq::Cancel,
}

impl Cancel {
    /// The core token.
    pub(crate) fn token(&self) -> httpqq::Cancel {
        self.token.clone()
    }
}

#[pymethods]
impl Cancel {
    #[new]
    fn new() -> Self {
        Cancel {
            token: httpqq::Cancel::new(),
        }
    }

    /// Cuts the calls under the token short; later ones fail at once.
    fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether `cancel` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Calls `function(*args)` with its network calls (on this thread)
    /// under the token.
    #[pyo3(signature = (function, *args))]
    fn run(&self, function: &Bound<'_, PyAny>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        struct Pop;
        impl Drop for Pop {
            fn drop(&mut self) {
                CURRENT.with(|c| c.borrow_mut().pop());
            }
        }
        CURRENT.with(|c| c.borrow_mut().push(self.token.clone()));
        let _pop = Pop;
        function.call1(args).map(Bound::unbind)
    }
}

/// How long a wait for an agent goes between looks for a signal.
pub(crate) const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Runs a network call on this thread without the GIL; its error becomes
/// its Python exception. On the main thread Ctrl-C cuts it short with
/// `KeyboardInterrupt` (see the module's documentation).
pub(crate) fn blocking<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, httpqq::Error> + Send,
) -> PyResult<T> {
    // Under the caller's token, if it gave one (`Cancel.run`).
    let token = current();
    let work = move || match token {
        Some(token) => token.run(work),
        None => work(),
    };
    if !on_main_thread(py) {
        return py.detach(work).map_err(|err| to_py(py, err));
    }
    let interrupted: Rc<RefCell<Option<PyErr>>> = Rc::default();
    let seen = Rc::clone(&interrupted);
    let check = move || match Python::attach(|py| py.check_signals()) {
        Ok(()) => false,
        Err(err) => {
            *seen.borrow_mut() = Some(err);
            true
        }
    };
    let result = httpqq::Cancel::new().run_checked(check, || py.detach(work));
    if let Some(err) = interrupted.take() {
        return Err(err);
    }
    result.map_err(|err| to_py(py, err))
}

/// Waits at most `timeout` (`None`: as long as it takes) for `attempt`,
/// which waits at most the slice it is given and says what came, if
/// anything; `Ok(None)` when the time ran out. Signals are handled between
/// slices, so Ctrl-C raises `KeyboardInterrupt` within [`SIGNAL_CHECK`].
pub(crate) fn in_slices<T: Send>(
    py: Python<'_>,
    timeout: Option<Duration>,
    mut attempt: impl FnMut(Duration) -> Option<T> + Send,
) -> PyResult<Option<T>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let slice = deadline.map_or(SIGNAL_CHECK, |d| {
            d.saturating_duration_since(Instant::now())
                .min(SIGNAL_CHECK)
        });
        if let Some(found) = py.detach(|| attempt(slice)) {
            return Ok(Some(found));
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
    }
}

/// Whether this is Python's main thread (the one signal handlers run on),
/// learnt once per thread.
fn on_main_thread(py: Python<'_>) -> bool {
    thread_local! {
        static MAIN: Cell<Option<bool>> = const { Cell::new(None) };
    }
    if let Some(known) = MAIN.with(Cell::get) {
        return known;
    }
    static MAIN_IDENT: PyOnceLock<Option<u64>> = PyOnceLock::new();
    let main = MAIN_IDENT.get_or_init(py, || {
        py.import("threading")
            .and_then(|t| t.call_method0("main_thread")?.getattr("ident")?.extract())
            .ok()
    });
    let current = py
        .import("_thread")
        .and_then(|t| t.call_method0("get_ident")?.extract::<u64>());
    match (main, current) {
        (Some(main), Ok(current)) => {
            let is_main = *main == current;
            MAIN.with(|m| m.set(Some(is_main)));
            is_main
        }
        // When in doubt, the interruptible way (and ask again next time).
        _ => true,
    }
}
