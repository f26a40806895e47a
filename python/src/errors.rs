//! The one mapping from the core's errors to the Python exceptions of
//! `httpqq.errors` (with their attributes).

use crate::convert::NameTable;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The exception classes of `httpqq.errors`, by type: each name is written
/// once, here, and all are looked up when the native module is imported
/// ([`resolve_all`]), so a missing one fails the import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorClass {
    Error,
    NoReply,
    NotLoggedIn,
    Throttled,
    InvalidUin,
    LoginFailed,
    ProtocolError,
    TransportError,
    Timeout,
    InvalidConfig,
    Stopped,
    Cancelled,
    NotOnline,
    TooLarge,
}

impl ErrorClass {
    /// Every variant, in declaration order: `class as usize` indexes it.
    const ALL: [ErrorClass; 14] = [
        ErrorClass::Error,
        ErrorClass::NoReply,
        ErrorClass::NotLoggedIn,
        ErrorClass::Throttled,
        ErrorClass::InvalidUin,
        ErrorClass::LoginFailed,
        ErrorClass::ProtocolError,
        ErrorClass::TransportError,
        ErrorClass::Timeout,
        ErrorClass::InvalidConfig,
        ErrorClass::Stopped,
        ErrorClass::Cancelled,
        ErrorClass::NotOnline,
        ErrorClass::TooLarge,
    ];

    /// Its name in `httpqq.errors`.
    const fn name(self) -> &'static str {
        match self {
            ErrorClass::Error => "Error",
            ErrorClass::NoReply => "NoReply",
            ErrorClass::NotLoggedIn => "NotLoggedIn",
            ErrorClass::Throttled => "Throttled",
            ErrorClass::InvalidUin => "InvalidUin",
            ErrorClass::LoginFailed => "LoginFailed",
            ErrorClass::ProtocolError => "ProtocolError",
            ErrorClass::TransportError => "TransportError",
            ErrorClass::Timeout => "Timeout",
            ErrorClass::InvalidConfig => "InvalidConfig",
            ErrorClass::Stopped => "Stopped",
            ErrorClass::Cancelled => "Cancelled",
            ErrorClass::NotOnline => "NotOnline",
            ErrorClass::TooLarge => "TooLarge",
        }
    }
}

static CLASSES: NameTable = NameTable::new();

/// Looks up every [`ErrorClass`] in `httpqq.errors` (and every enum of
/// `httpqq.enums`); called when the native module is imported.
pub(crate) fn resolve_all(py: Python<'_>) -> PyResult<()> {
    CLASSES.resolve(py, "httpqq.errors", &ErrorClass::ALL.map(ErrorClass::name))?;
    crate::convert::resolve_all(py)
}

/// The exception class for `class`.
fn class(py: Python<'_>, class: ErrorClass) -> PyResult<Bound<'_, PyAny>> {
    resolve_all(py)?;
    Ok(CLASSES.get(py, class as usize))
}

/// The Python exception for a core error: the class for its kind, the
/// message, and its attributes (`outcome`; `retry_after`, `reason`,
/// `phase` where they apply).
pub(crate) fn to_py(py: Python<'_>, err: httpqq::Error) -> PyErr {
    match exception(py, &err) {
        Ok(exception) => PyErr::from_value(exception),
        Err(import_failed) => import_failed,
    }
}

/// The exception object for a core error (for events that carry one).
pub(crate) fn exception<'py>(py: Python<'py>, err: &httpqq::Error) -> PyResult<Bound<'py, PyAny>> {
    use httpqq::Error as E;
    let kwargs = PyDict::new(py);
    kwargs.set_item(
        "outcome",
        crate::convert::member(py, crate::convert::EnumClass::Outcome, err.outcome().code())?,
    )?;
    let mut args = vec![err.to_string()];
    let name = match err {
        E::NoReply => ErrorClass::NoReply,
        E::NotLoggedIn | E::SessionDropped => ErrorClass::NotLoggedIn,
        E::Throttled {
            retry_after,
            reason,
        } => {
            kwargs.set_item("retry_after", retry_after.as_secs_f64())?;
            kwargs.set_item("reason", reason.as_deref())?;
            ErrorClass::Throttled
        }
        E::InvalidUin => ErrorClass::InvalidUin,
        E::LoginFailed { reason } => {
            args.push(reason.clone());
            ErrorClass::LoginFailed
        }
        E::Protocol(_) | E::Http(_) => ErrorClass::ProtocolError,
        E::Transport { phase, .. } => {
            // `Phase` members are core's texts for the phases.
            kwargs.set_item(
                "phase",
                crate::convert::member(py, crate::convert::EnumClass::Phase, phase.to_string())?,
            )?;
            ErrorClass::TransportError
        }
        E::Timeout { phase, .. } => {
            kwargs.set_item(
                "phase",
                crate::convert::member(py, crate::convert::EnumClass::Phase, phase.to_string())?,
            )?;
            ErrorClass::Timeout
        }
        E::InvalidConfig(_) => ErrorClass::InvalidConfig,
        E::Stopped => ErrorClass::Stopped,
        E::Cancelled { phase } => {
            kwargs.set_item(
                "phase",
                crate::convert::member(py, crate::convert::EnumClass::Phase, phase.to_string())?,
            )?;
            ErrorClass::Cancelled
        }
        E::NotOnline { waited } => {
            kwargs.set_item("waited", waited.as_secs_f64())?;
            ErrorClass::NotOnline
        }
        E::TooLarge { size, limit } => {
            kwargs.set_item("size", size)?;
            kwargs.set_item("limit", limit)?;
            ErrorClass::TooLarge
        }
        // A variant added to the core later: still an httpqq.Error.
        _ => ErrorClass::Error,
    };
    class(py, name)?.call(pyo3::types::PyTuple::new(py, args)?, Some(&kwargs))
}
