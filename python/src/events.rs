//! An agent's events, waited for from Python: [`AgentSlot`], the core
//! agent an `Agent` or an `Events` holds, with its next event and its
//! close (each waited for in slices without the GIL, so Ctrl-C interrupts
//! them: [`crate::wait::in_slices`]); and [`Events`], what
//! `session.events()` gives: the messages alone.
//!
//! Below `client.rs` (which hands out `Events`) and `agent.rs` (which
//! builds an `Agent` from a `Client`): neither reaches into the other.

use crate::errors::to_py;
use crate::model::Message;
use crate::wait::in_slices;
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running core agent, until it is closed.
pub(crate) struct AgentSlot(Mutex<Option<Arc<httpqq::Agent>>>);

impl AgentSlot {
    pub(crate) fn new(agent: httpqq::Agent) -> AgentSlot {
        AgentSlot(Mutex::new(Some(Arc::new(agent))))
    }

    /// The agent, or `None` once it was closed.
    pub(crate) fn live(&self) -> Option<Arc<httpqq::Agent>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits for the agent's next event in slices (Ctrl-C interrupts);
    /// `None` when `timeout` passed, or when no event will come.
    pub(crate) fn next_event(
        &self,
        py: Python<'_>,
        timeout: Option<Duration>,
    ) -> PyResult<Option<httpqq::Event>> {
        let Some(agent) = self.live() else {
            return Ok(None);
        };
        let found = in_slices(py, timeout, |slice| match agent.next_event_timeout(slice) {
            Ok(event) => Some(Some(event)),
            Err(httpqq::NoEvent::Finished) => Some(None),
            Err(httpqq::NoEvent::Timeout) => None,
        })?;
        Ok(found.flatten())
    }

    /// Waits at most `timeout` (`None`: as long as it takes) for the agent
    /// to finish; whether it has (a closed one has).
    pub(crate) fn wait_stopped(&self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<bool> {
        let Some(agent) = self.live() else {
            return Ok(true);
        };
        let stopped = in_slices(py, timeout, |slice| agent.wait_stopped(slice).then_some(()))?;
        Ok(stopped.is_some())
    }

    /// Stops the agent, waits (interruptibly) until it finished, and lets
    /// go of it. Idempotent.
    pub(crate) fn close(&self, py: Python<'_>) -> PyResult<()> {
        let Some(agent) = self.live() else {
            return Ok(());
        };
        agent.stop();
        self.wait_stopped(py, None)?;
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        Ok(())
    }
}

/// Incoming messages, forever: `for message in session.events(): ...`.
/// Stop with `break` (messages already fetched stay: iterate again to get
/// them, or, once the iterator is closed or dropped, they come first from
/// the session's next `messages()`), `close()` or Ctrl-C.
#[pyclass(frozen, module = "httpqq")]
pub(crate) struct Events {
    agent: AgentSlot,
}

impl Events {
    /// An agent on `session` polling every `interval` while no message
    /// comes.
    pub(crate) fn start(
        session: Arc<httpqq::Session>,
        interval: Duration,
    ) -> Result<Events, httpqq::Error> {
        let agent = httpqq::Agent::for_session(session)
            .poll_interval(interval)
            .start()?;
        Ok(Events {
            agent: AgentSlot::new(agent),
        })
    }
}

#[pymethods]
impl Events {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Message>> {
        loop {
            let Some(event) = self.agent.next_event(py, None)? else {
                return Ok(None);
            };
            match event.kind {
                httpqq::EventKind::Message(message) => {
                    return Ok(Some(match self.agent.live() {
                        Some(agent) => Message::from_agent(message, &agent),
                        None => message.into(),
                    }));
                }
                httpqq::EventKind::Stopped(reason) => {
                    return match reason.error() {
                        Some(err) => Err(to_py(py, err)),
                        None => Ok(None),
                    }
                }
                _ => {}
            }
        }
    }

    /// Stops polling; messages already fetched stay with the session (its
    /// next `messages()` gives them first). Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.agent.close(py)
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
}
