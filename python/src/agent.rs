//! `Agent` and `Event`: the core's agent, a logged-in account that stays
//! up, for Python. Waits happen in slices without the GIL, so Ctrl-C
//! interrupts them; `on_event` lets `httpqq.aio` be woken instead of
//! blocking a thread.

use crate::client::{Client, Session};
use crate::convert::{member, seconds, EnumClass};
use crate::errors::{exception, to_py};
use crate::model::Message;
use crate::wait::{blocking, in_slices};
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A logged-in account that stays up: it logs in, polls for messages,
/// rides out network failures and server restarts with backoff, waits out
/// `RES=3` penalties, logs in again after `RES=20`, and reports it all as
/// `Event`s. A context manager that stops it (logging out) on exit.
#[pyclass(frozen, module = "httpqq")]
pub(crate) struct Agent {
    agent: Mutex<Option<Arc<httpqq::Agent>>>,
    uin: u64,
}

/// The agent in `slot`, or `Stopped` once it was closed.
fn live(slot: &Mutex<Option<Arc<httpqq::Agent>>>) -> Option<Arc<httpqq::Agent>> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Waits for the agent's next event in slices (Ctrl-C interrupts);
/// `None` when `timeout` passed, or when no event will come.
pub(crate) fn next_event(
    py: Python<'_>,
    slot: &Mutex<Option<Arc<httpqq::Agent>>>,
    timeout: Option<Duration>,
) -> PyResult<Option<httpqq::Event>> {
    let Some(agent) = live(slot) else {
        return Ok(None);
    };
    let found = in_slices(py, timeout, |slice| match agent.next_event_timeout(slice) {
        Ok(event) => Some(Some(event)),
        Err(httpqq::NoEvent::Finished) => Some(None),
        Err(httpqq::NoEvent::Timeout) => None,
    })?;
    Ok(found.flatten())
}

/// Stops the agent in `slot`, waits (interruptibly) until it finished, and
/// lets go of it. Idempotent.
pub(crate) fn close(py: Python<'_>, slot: &Mutex<Option<Arc<httpqq::Agent>>>) -> PyResult<()> {
    let Some(agent) = live(slot) else {
        return Ok(());
    };
    agent.stop();
    in_slices(py, None, |slice| agent.wait_stopped(slice).then_some(()))?;
    slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    Ok(())
}

#[pymethods]
impl Agent {
    #[new]
    #[pyo3(signature = (
        client,
        uin,
        password,
        *,
        poll_interval = 5.0,
        backoff_initial = 1.0,
        backoff_max = 30.0,
        backoff_factor = 2.0,
        backoff_jitter = 0.2,
        throttle_penalty = None,
        relogin = true,
        stop_timeout = None,
        on_event = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client: &Client,
        uin: &Bound<'_, PyAny>,
        password: &str,
        poll_interval: f64,
        backoff_initial: f64,
        backoff_max: f64,
        backoff_factor: f64,
        backoff_jitter: f64,
        throttle_penalty: Option<f64>,
        relogin: bool,
        stop_timeout: Option<f64>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let uin = crate::convert::uin(uin, "uin")?;
        let mut builder = httpqq::Agent::builder(client.core(), uin, password)
            .poll_interval(seconds(poll_interval, "poll_interval")?)
            .backoff(httpqq::Backoff {
                initial: seconds(backoff_initial, "backoff_initial")?,
                max: seconds(backoff_max, "backoff_max")?,
                factor: backoff_factor,
                jitter: backoff_jitter,
            })
            .relogin(relogin);
        if let Some(penalty) = throttle_penalty {
            builder = builder.throttle_penalty(seconds(penalty, "throttle_penalty")?);
        }
        if let Some(limit) = stop_timeout {
            builder = builder.stop_timeout(seconds(limit, "stop_timeout")?);
        }
        if let Some(callback) = on_event {
            builder = builder.on_event(move || notify(&callback));
        }
        let agent = builder.start().map_err(|err| to_py(py, err))?;
        Ok(Agent {
            agent: Mutex::new(Some(Arc::new(agent))),
            uin: uin.get(),
        })
    }

    /// The account's UIN.
    #[getter]
    fn uin(&self) -> u64 {
        self.uin
    }

    /// Where the agent is now (`AgentState`).
    #[getter]
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let state = live(&self.agent).map_or(httpqq::State::Stopped, |a| a.state());
        member(py, EnumClass::AgentState, state.code())
    }

    /// The session the agent polls, for the commands it does not make
    /// itself (friends, profiles, status, …). Do not log it out: stop the
    /// agent.
    #[getter]
    fn session(&self) -> PyResult<Session> {
        let agent = live(&self.agent).ok_or_else(stopped)?;
        Ok(Session::shared(Arc::clone(agent.session())))
    }

    /// The next event, waiting at most `timeout` seconds (`None`: as long
    /// as it takes); `None` when none came in time, or once the agent has
    /// stopped and its last event was taken. Ctrl-C interrupts the wait.
    #[pyo3(signature = (timeout = None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Event>> {
        next_event(py, &self.agent, wait_limit(timeout)?)?
            .map(|event| Event::new(py, event))
            .transpose()
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The events, until (and with) the last one, `STOPPED`.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Event>> {
        self.next_event(py, None)
    }

    /// Sends a text message. Raises when it was not accepted; the
    /// exception's `outcome` says whether it was certainly not carried out
    /// (`REFUSED`: a result code, a penalty still running, `Throttled` with
    /// `retry_after`) or may have been (`UNKNOWN`: sent, no reply). Nothing
    /// is ever resent by itself.
    fn send(&self, py: Python<'_>, uin: &Bound<'_, PyAny>, text: &str) -> PyResult<()> {
        let target = crate::convert::uin(uin, "uin")?;
        crate::convert::message_text(httpqq::Uin::new(self.uin), target, text)?;
        let agent = live(&self.agent).ok_or_else(stopped)?;
        let text = text.to_owned();
        blocking(py, move || agent.send(target, &text))
    }

    /// As `send`, without waiting: `done` is called with `None` (accepted)
    /// or the exception, on another thread. For `httpqq.aio`.
    fn _send_then(&self, uin: &Bound<'_, PyAny>, text: &str, done: Py<PyAny>) -> PyResult<()> {
        let target = crate::convert::uin(uin, "uin")?;
        crate::convert::message_text(httpqq::Uin::new(self.uin), target, text)?;
        let agent = live(&self.agent).ok_or_else(stopped)?;
        agent.send_later(target, text).then(move |result| {
            Python::try_attach(|py| {
                let argument = match result {
                    Ok(Ok(())) => Ok(py.None()),
                    Ok(Err(err)) => exception(py, &err).map(Bound::unbind),
                    Err(_) => Ok(
                        pyo3::exceptions::PyRuntimeError::new_err("the send panicked")
                            .into_value(py)
                            .into_any(),
                    ),
                };
                match argument.and_then(|a| done.call1(py, (a,))) {
                    Ok(_) => {}
                    Err(err) => err.write_unraisable(py, None),
                }
            });
        });
        Ok(())
    }

    /// Stops the agent; returns at once (see `close` to wait). Idempotent;
    /// callable from any thread.
    fn stop(&self) {
        if let Some(agent) = live(&self.agent) {
            agent.stop();
        }
    }

    /// Waits at most `timeout` seconds (`None`: as long as it takes) for the
    /// agent to finish; whether it has.
    #[pyo3(signature = (timeout = None))]
    fn wait_stopped(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let Some(agent) = live(&self.agent) else {
            return Ok(true);
        };
        let stopped = in_slices(py, wait_limit(timeout)?, |slice| {
            agent.wait_stopped(slice).then_some(())
        })?;
        Ok(stopped.is_some())
    }

    /// Stops the agent and waits until it finished (it logs out if the
    /// server is reachable). Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        close(py, &self.agent)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Agent(uin={}, state={})",
            self.uin,
            self.state(py)?.repr()?
        ))
    }
}

/// A wait's `timeout` in seconds: `None` for no limit, 0 for "only look".
fn wait_limit(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    match timeout {
        Some(0.0) => Ok(Some(Duration::ZERO)),
        Some(t) => seconds(t, "timeout").map(Some),
        None => Ok(None),
    }
}

fn stopped() -> PyErr {
    Python::attach(|py| to_py(py, httpqq::Error::Stopped))
}

/// Calls an `on_event` callback from a runtime thread; an exception in it
/// is reported as unraisable (it must not stop the agent).
fn notify(callback: &Py<PyAny>) {
    Python::try_attach(|py| {
        if let Err(err) = callback.call0(py) {
            err.write_unraisable(py, None);
        }
    });
}

/// One thing an agent reports.
#[pyclass(frozen, module = "httpqq")]
pub(crate) struct Event {
    uin: u64,
    kind: u32,
    message: Option<Message>,
    attempt: u32,
    retry_in: Option<f64>,
    error: Option<Py<PyAny>>,
}

impl Event {
    fn new(py: Python<'_>, event: httpqq::Event) -> PyResult<Event> {
        let mut out = Event {
            uin: event.uin.get(),
            kind: event.kind.code(),
            message: None,
            attempt: 0,
            retry_in: None,
            error: None,
        };
        match event.kind {
            httpqq::EventKind::Reconnecting {
                attempt,
                retry_in,
                error,
            } => {
                out.attempt = attempt;
                out.retry_in = Some(retry_in.as_secs_f64());
                out.error = Some(exception(py, &error)?.unbind());
            }
            httpqq::EventKind::Throttled { retry_after } => {
                out.retry_in = Some(retry_after.as_secs_f64());
            }
            httpqq::EventKind::Message(message) => out.message = Some(message.into()),
            httpqq::EventKind::Stopped(reason) => {
                if let Some(err) = reason.error() {
                    out.error = Some(exception(py, &err)?.unbind());
                }
            }
            _ => {}
        }
        Ok(out)
    }
}

#[pymethods]
impl Event {
    /// An event as an agent would report it (for tests of your own code):
    /// `kind` an `EventKind` (or its code).
    #[new]
    #[pyo3(signature = (uin, kind, message = None, attempt = 0, retry_in = None, error = None))]
    fn py_new(
        uin: &Bound<'_, PyAny>,
        kind: &Bound<'_, PyAny>,
        message: Option<Bound<'_, Message>>,
        attempt: u32,
        retry_in: Option<f64>,
        error: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        Ok(Event {
            uin: crate::convert::wire_uin(uin, "uin")?.get(),
            kind: crate::convert::code(kind, "kind")?,
            message: message.map(|m| m.get().clone()),
            attempt,
            retry_in,
            error,
        })
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (
        Bound<'py, PyType>,
        (
            u64,
            u32,
            Option<Message>,
            u32,
            Option<f64>,
            Option<Py<PyAny>>,
        ),
    ) {
        let e = slf.get();
        let error = e.error.as_ref().map(|err| err.clone_ref(slf.py()));
        (
            slf.as_any().get_type(),
            (
                e.uin,
                e.kind,
                e.message.clone(),
                e.attempt,
                e.retry_in,
                error,
            ),
        )
    }

    /// The account the event is about.
    #[getter]
    fn uin(&self) -> u64 {
        self.uin
    }

    /// What happened (`EventKind`).
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        member(py, EnumClass::EventKind, self.kind)
    }

    /// The incoming message of a `MESSAGE` event; `None` otherwise.
    #[getter]
    fn message(&self) -> Option<Message> {
        self.message.clone()
    }

    /// Failures in a row of a `RECONNECTING` event (from 1); 0 otherwise.
    #[getter]
    fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Seconds until the agent's next request: the backoff of a
    /// `RECONNECTING` event, the penalty of a `THROTTLED` one; `None`
    /// otherwise.
    #[getter]
    fn retry_in(&self) -> Option<f64> {
        self.retry_in
    }

    /// What failed: the exception of a `RECONNECTING` event's request, or
    /// why a `STOPPED` agent stopped (`LoginFailed` with its `reason`, say);
    /// `None` when it was asked to stop, and for other kinds.
    #[getter]
    fn error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.error.as_ref().map(|e| e.clone_ref(py))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut out = format!("Event(uin={}, kind={}", self.uin, self.kind(py)?.repr()?);
        if let Some(message) = &self.message {
            out.push_str(&format!(", message={}", message.__repr__(py)?));
        }
        if self.attempt > 0 {
            out.push_str(&format!(", attempt={}", self.attempt));
        }
        if let Some(retry_in) = self.retry_in {
            out.push_str(&format!(", retry_in={retry_in:.3}"));
        }
        if let Some(error) = &self.error {
            out.push_str(&format!(", error={}", error.bind(py).repr()?));
        }
        out.push(')');
        Ok(out)
    }
}
