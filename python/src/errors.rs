//! The one mapping from the core's errors to the Python exceptions of
//! `httpqq.errors`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// The exception class `name` of `httpqq.errors`.
fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = MODULE.get_or_try_init(py, || py.import("httpqq.errors").map(Bound::unbind))?;
    Ok(module.bind(py).getattr(name)?.cast_into::<PyType>()?)
}

/// The Python exception for a core error.
pub(crate) fn to_py(py: Python<'_>, err: httpqq::Error) -> PyErr {
    use httpqq::Error as E;
    let message = err.to_string();
    let raised = match &err {
        E::NoReply => class(py, "NoReply").and_then(|c| c.call1((message,))),
        E::NotLoggedIn => class(py, "NotLoggedIn").and_then(|c| c.call1((message,))),
        E::Throttled { .. } => class(py, "Throttled").and_then(|c| c.call1((message,))),
        E::InvalidUin => class(py, "InvalidUin").and_then(|c| c.call1((message,))),
        E::LoginFailed { reason } => {
            class(py, "LoginFailed").and_then(|c| c.call1((message, reason.as_str())))
        }
        E::Protocol(_) => class(py, "ProtocolError").and_then(|c| c.call1((message,))),
        E::Transport { .. } => class(py, "TransportError").and_then(|c| c.call1((message,))),
        E::Timeout { .. } => class(py, "Timeout").and_then(|c| c.call1((message,))),
        E::InvalidConfig(_) => class(py, "InvalidConfig").and_then(|c| c.call1((message,))),
        // A variant added to the core later: still an httpqq.Error.
        _ => class(py, "Error").and_then(|c| c.call1((message,))),
    };
    match raised {
        Ok(exception) => PyErr::from_value(exception),
        Err(import_failed) => import_failed,
    }
}

/// Runs `work` without the GIL (so other Python threads run meanwhile) and
/// turns its error into the Python exception.
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, httpqq::Error> + Send,
) -> PyResult<T> {
    py.detach(work).map_err(|err| to_py(py, err))
}
