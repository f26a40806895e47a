//! Checks of the arguments Python passes, with `TypeError` / `ValueError`
//! messages that name the argument, and the codes turned into the
//! `httpqq` enums (`enum.IntEnum`).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt};
use std::time::Duration;

/// An `int` argument that must fit `u64` (a UIN).
pub(crate) fn uin(value: &Bound<'_, PyAny>, name: &str) -> PyResult<httpqq::Uin> {
    integer::<u64>(value, name, "a QQ number: a positive integer below 2**64").map(httpqq::Uin::new)
}

/// An `int` argument (or an `IntEnum` member) that must fit `u32` (a code
/// or a count).
pub(crate) fn code(value: &Bound<'_, PyAny>, name: &str) -> PyResult<u32> {
    integer::<u32>(value, name, "a non-negative integer below 2**32")
}

fn integer<T>(value: &Bound<'_, PyAny>, name: &str, what: &str) -> PyResult<T>
where
    for<'a, 'py> T: FromPyObject<'a, 'py>,
{
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        let type_name = value.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "{name} must be an int, not {type_name}"
        )));
    }
    value
        .extract::<T>()
        .map_err(|_| PyValueError::new_err(format!("{name} must be {what}, not {value}")))
}

/// A duration in seconds (`int` or `float`), finite and positive.
pub(crate) fn seconds(value: f64, name: &str) -> PyResult<Duration> {
    if value.is_nan() || value <= 0.0 {
        return Err(PyValueError::new_err(format!(
            "{name} must be a positive number of seconds, not {value}"
        )));
    }
    Duration::try_from_secs_f64(value)
        .map_err(|_| PyValueError::new_err(format!("{name} of {value} seconds is too long")))
}

/// The member of the `httpqq` enum `class` for `code` (an unlisted code
/// gives a member named `OTHER_<code>`).
pub(crate) fn member<'py>(py: Python<'py>, class: &str, code: u32) -> PyResult<Bound<'py, PyAny>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = MODULE.get_or_try_init(py, || py.import("httpqq.enums").map(Bound::unbind))?;
    module.bind(py).getattr(class)?.call1((code,))
}

/// As [`member`], for a code that may be absent.
pub(crate) fn optional_member<'py>(
    py: Python<'py>,
    class: &str,
    code: Option<u32>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    code.map(|code| member(py, class, code)).transpose()
}
