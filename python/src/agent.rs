//! `Agent` and `Event`: the core's agent, a logged-in account that stays
//! up, for Python. Waits happen in slices without the GIL, so Ctrl-C
//! interrupts them; `on_event` lets `httpqq.aio` be woken instead of
//! blocking a thread.

use crate::client::{Client, Session};
use crate::convert::{member, seconds, EnumClass};
use crate::errors::{exception, to_py};
use crate::events::AgentSlot;
use crate::model::Message;
use crate::wait::blocking;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::sync::Arc;
use std::time::Duration;

/// A logged-in account that stays up: it logs in, polls for messages,
/// rides out network failures and server restarts with backoff, waits out
/// `RES=3` penalties, logs in again after `RES=20`, and reports it all as
/// `Event`s. A context manager that stops it (logging out) on exit.
#[pyclass(frozen, module = "httpqq")]
pub(crate) struct Agent {
    agent: AgentSlot,
    uin: u64,
}

#[pymethods]
impl Agent {
    /// Every option left `None` is core's default (the README lists
    /// them).
    #[new]
    #[pyo3(signature = (
        client,
        uin,
        password,
        *,
        poll_interval = None,
        backoff_initial = None,
        backoff_max = None,
        backoff_factor = None,
        backoff_jitter = None,
        throttle_penalty = None,
        throttle_retries = None,
        send_pace = None,
        relogin = None,
        stop_timeout = None,
        inbox = None,
        on_event = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client: &Client,
        uin: &Bound<'_, PyAny>,
        password: &str,
        poll_interval: Option<f64>,
        backoff_initial: Option<f64>,
        backoff_max: Option<f64>,
        backoff_factor: Option<f64>,
        backoff_jitter: Option<f64>,
        throttle_penalty: Option<f64>,
        throttle_retries: Option<u32>,
        send_pace: Option<&Bound<'_, PyAny>>,
        relogin: Option<bool>,
        stop_timeout: Option<f64>,
        inbox: Option<std::path::PathBuf>,
        on_event: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let uin = crate::convert::uin(uin, "uin")?;
        let mut builder = httpqq::Agent::builder(client.core(), uin, password);
        if let Some(every) = poll_interval {
            builder = builder.poll_interval(seconds(every, "poll_interval")?);
        }
        let defaults = httpqq::Backoff::default();
        builder = builder.backoff(httpqq::Backoff {
            initial: backoff_initial
                .map_or(Ok(defaults.initial), |s| seconds(s, "backoff_initial"))?,
            max: backoff_max.map_or(Ok(defaults.max), |s| seconds(s, "backoff_max"))?,
            factor: backoff_factor.unwrap_or(defaults.factor),
            jitter: backoff_jitter.unwrap_or(defaults.jitter),
        });
        if let Some(penalty) = throttle_penalty {
            builder = builder.throttle_penalty(seconds(penalty, "throttle_penalty")?);
        }
        if let Some(times) = throttle_retries {
            builder = builder.throttle_retries(times);
        }
        if let Some(pace) = send_pace {
            builder = builder.send_pace(send_pace_of(pace)?);
        }
        if let Some(on) = relogin {
            builder = builder.relogin(on);
        }
        if let Some(limit) = stop_timeout {
            builder = builder.stop_timeout(seconds(limit, "stop_timeout")?);
        }
        if let Some(path) = inbox {
            builder = builder.inbox(path);
        }
        if let Some(callback) = on_event {
            if !callback.is_callable() {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "on_event must be callable, not {}",
                    callback.get_type().name()?
                )));
            }
            let callback = callback.unbind();
            builder = builder.on_event(move || notify(&callback));
        }
        let agent = builder.start().map_err(|err| to_py(py, err))?;
        Ok(Agent {
            agent: AgentSlot::new(agent),
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
        let state = self
            .agent
            .live()
            .map_or(httpqq::State::Stopped, |a| a.state());
        member(py, EnumClass::AgentState, state.code())
    }

    /// The session the agent polls, for the commands it does not make
    /// itself (friends, profiles, status, …). Do not log it out: stop the
    /// agent.
    #[getter]
    fn session(&self) -> PyResult<Session> {
        let agent = self.agent.live().ok_or_else(stopped)?;
        Ok(Session::shared(Arc::clone(agent.session())))
    }

    /// The next event, waiting at most `timeout` seconds (`None`: as long
    /// as it takes); `None` when none came in time, or once the agent has
    /// stopped and its last event was taken. Ctrl-C interrupts the wait.
    #[pyo3(signature = (timeout = None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Event>> {
        let Some(agent) = self.agent.live() else {
            return Ok(None);
        };
        self.agent
            .next_event(py, wait_limit(timeout)?)?
            .map(|event| Event::new(py, event, &agent))
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
        let agent = self.agent.live().ok_or_else(stopped)?;
        let text = text.to_owned();
        blocking(py, move || agent.send(target, &text))
    }

    /// As `send`, without waiting: `done` is called with `None` (accepted)
    /// or the exception, on another thread. For `httpqq.aio`.
    #[pyo3(signature = (uin, text, done, cancel = None))]
    fn _send_then(
        &self,
        uin: &Bound<'_, PyAny>,
        text: &str,
        done: Py<PyAny>,
        cancel: Option<&Bound<'_, crate::wait::Cancel>>,
    ) -> PyResult<()> {
        let target = crate::convert::uin(uin, "uin")?;
        let agent = self.agent.live().ok_or_else(stopped)?;
        let token = cancel.map(|c| c.get().token());
        let text = text.to_owned();
        let sending = Arc::clone(&agent);
        httpqq::Runtime::global()
            .spawn(move || match token {
                Some(token) => token.run(|| sending.send(target, &text)),
                None => sending.send(target, &text),
            })
            .then(move |result| {
                Python::try_attach(|py| {
                    let argument = match result {
                        Ok(Ok(())) => Ok(py.None()),
                        Ok(Err(err)) => exception(py, &err).map(Bound::unbind),
                        Err(_) => Ok(pyo3::exceptions::PyRuntimeError::new_err(
                            "the send panicked",
                        )
                        .into_value(py)
                        .into_any()),
                    };
                    match argument.and_then(|a| done.call1(py, (a,))) {
                        Ok(_) => {}
                        Err(err) => err.write_unraisable(py, None),
                    }
                });
            });
        Ok(())
    }

    /// Says you are done with the messages taken so far (with an `inbox`,
    /// they are forgotten from it). Taking the next event does this too;
    /// leaving `with` without an exception also does.
    fn ack(&self) {
        if let Some(agent) = self.agent.live() {
            agent.ack();
        }
    }

    /// Messages fetched and not taken yet (dropped when the agent closes,
    /// unless it has an `inbox`).
    #[getter]
    fn undelivered(&self) -> usize {
        self.agent.live().map_or(0, |a| a.undelivered())
    }

    /// Stops the agent; returns at once (see `close` to wait). Idempotent;
    /// callable from any thread.
    fn stop(&self) {
        if let Some(agent) = self.agent.live() {
            agent.stop();
        }
    }

    /// Waits at most `timeout` seconds (`None`: as long as it takes) for the
    /// agent to finish; whether it has.
    #[pyo3(signature = (timeout = None))]
    fn wait_stopped(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        self.agent.wait_stopped(py, wait_limit(timeout)?)
    }

    /// Stops the agent and waits until it finished (it logs out if the
    /// server is reachable). Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.agent.close(py)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Stops the agent and waits until it finished. Leaving without an
    /// exception first says you are done with the messages taken (`ack`);
    /// with one (Ctrl-C in a handler, say), the message in hand is not,
    /// and an `inbox` hands it out again next time.
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if exc_type.is_none() {
            self.ack();
        }
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

/// A send pace from Python: `(count, window_seconds)`, or `False` for
/// none.
fn send_pace_of(pace: &Bound<'_, PyAny>) -> PyResult<Option<httpqq::SendPace>> {
    if pace.is_instance_of::<pyo3::types::PyBool>() && !pace.is_truthy()? {
        return Ok(None);
    }
    let (count, window): (u32, f64) = pace.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "send_pace must be (count, window in seconds), or False for none",
        )
    })?;
    Ok(Some(httpqq::SendPace {
        count,
        window: seconds(window, "send_pace's window")?,
    }))
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
    fn new(py: Python<'_>, event: httpqq::Event, agent: &Arc<httpqq::Agent>) -> PyResult<Event> {
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
            httpqq::EventKind::Message(message) => {
                out.message = Some(Message::from_agent(message, agent))
            }
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
