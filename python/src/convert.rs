//! Checks of the arguments Python passes, with `TypeError` / `ValueError`
//! messages that name the argument, and the codes turned into the
//! `httpqq` enums (`enum.IntEnum`).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt};
use std::time::Duration;

/// A UIN a call sends: an `int` that is a valid QQ number (10000 to
/// 4294967295, core's `Uin::checked`), else a `ValueError` before anything
/// is sent.
pub(crate) fn uin(value: &Bound<'_, PyAny>, name: &str) -> PyResult<httpqq::Uin> {
    let number = wire_uin(value, name)?;
    if number.is_valid() {
        return Ok(number);
    }
    Err(PyValueError::new_err(format!(
        "{name} must be a QQ number from {} to {}, not {number}",
        httpqq::Uin::FIRST,
        httpqq::Uin::LAST
    )))
}

/// A UIN as the wire may carry one, valid or not (for values built by
/// hand: messages, events, codec requests).
pub(crate) fn wire_uin(value: &Bound<'_, PyAny>, name: &str) -> PyResult<httpqq::Uin> {
    integer::<u64>(value, name, "a QQ number: a positive integer below 2**64").map(httpqq::Uin::new)
}

/// An `int` argument (or an `IntEnum` member) that must fit `u32` (a code
/// or a count).
pub(crate) fn code(value: &Bound<'_, PyAny>, name: &str) -> PyResult<u32> {
    integer::<u32>(value, name, "a non-negative integer below 2**32")
}

/// A port to connect to: an `int` (not a `bool`) from 1 to 65535 (0 only
/// means "any port" to a listener: nothing connects to it).
pub(crate) fn port(value: &Bound<'_, PyAny>) -> PyResult<u16> {
    match integer::<u16>(value, "port", "from 1 to 65535")? {
        0 => Err(PyValueError::new_err("port must be from 1 to 65535, not 0")),
        port => Ok(port),
    }
}

/// A sequence number (`SEQ`): an `int` from 0 to 65535.
pub(crate) fn seq(value: &Bound<'_, PyAny>) -> PyResult<u16> {
    integer::<u16>(value, "seq", "a sequence number from 0 to 65535")
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

/// The enums of `httpqq.enums` the native module hands out, by type: a
/// name is written once, here, and every one is looked up when the module
/// is imported ([`resolve_all`]), so a missing one fails the import rather
/// than the line that first needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnumClass {
    Status,
    MessageKind,
    Gender,
    BloodType,
    Constellation,
    Zodiac,
    AddFriendOutcome,
    Outcome,
    EventKind,
    AgentState,
    Phase,
}

impl EnumClass {
    /// Every variant, in declaration order: `class as usize` indexes it.
    const ALL: [EnumClass; 11] = [
        EnumClass::Status,
        EnumClass::MessageKind,
        EnumClass::Gender,
        EnumClass::BloodType,
        EnumClass::Constellation,
        EnumClass::Zodiac,
        EnumClass::AddFriendOutcome,
        EnumClass::Outcome,
        EnumClass::EventKind,
        EnumClass::AgentState,
        EnumClass::Phase,
    ];

    /// Its name in `httpqq.enums`.
    const fn name(self) -> &'static str {
        match self {
            EnumClass::Status => "Status",
            EnumClass::MessageKind => "MessageKind",
            EnumClass::Gender => "Gender",
            EnumClass::BloodType => "BloodType",
            EnumClass::Constellation => "Constellation",
            EnumClass::Zodiac => "Zodiac",
            EnumClass::AddFriendOutcome => "AddFriendOutcome",
            EnumClass::Outcome => "Outcome",
            EnumClass::EventKind => "EventKind",
            EnumClass::AgentState => "AgentState",
            EnumClass::Phase => "Phase",
        }
    }
}

/// Python objects looked up by name once, all together: the classes the
/// native module hands out, in the order of `names` (a missing one fails
/// the lookup, and so the import).
pub(crate) struct NameTable(PyOnceLock<Vec<Py<PyAny>>>);

impl NameTable {
    pub(crate) const fn new() -> NameTable {
        NameTable(PyOnceLock::new())
    }

    /// Looks every name up in `module`, the first time.
    pub(crate) fn resolve(&self, py: Python<'_>, module: &str, names: &[&str]) -> PyResult<()> {
        self.0.get_or_try_init(py, || {
            let module = py.import(module)?;
            names
                .iter()
                .map(|name| module.getattr(*name).map(Bound::unbind))
                .collect::<PyResult<Vec<_>>>()
        })?;
        Ok(())
    }

    /// The object at `index` of the names, once resolved.
    pub(crate) fn get<'py>(&self, py: Python<'py>, index: usize) -> Bound<'py, PyAny> {
        let objects = self
            .0
            .get(py)
            .expect("resolved when the module was imported");
        objects[index].bind(py).clone()
    }
}

static ENUMS: NameTable = NameTable::new();

/// Looks up every [`EnumClass`] in `httpqq.enums`; called when the native
/// module is imported.
pub(crate) fn resolve_all(py: Python<'_>) -> PyResult<()> {
    ENUMS.resolve(py, "httpqq.enums", &EnumClass::ALL.map(EnumClass::name))
}

/// The member of the `httpqq` enum `class` for `code` (an unlisted code
/// gives a member named `OTHER_<code>`).
pub(crate) fn member<'py>(
    py: Python<'py>,
    class: EnumClass,
    code: impl IntoPyObject<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    resolve_all(py)?;
    ENUMS.get(py, class as usize).call1((code,))
}

/// As [`member`], for a code that may be absent.
pub(crate) fn optional_member<'py>(
    py: Python<'py>,
    class: EnumClass,
    code: Option<u32>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    code.map(|code| member(py, class, code)).transpose()
}

/// A status one can set (core's `Status::is_settable`).
pub(crate) fn settable_status(value: &Bound<'_, PyAny>) -> PyResult<httpqq::Status> {
    let status = httpqq::Status::from_code(code(value, "status")?);
    if status.is_settable() {
        return Ok(status);
    }
    let listed: Vec<String> = httpqq::Status::ALL
        .iter()
        .filter(|s| s.is_settable())
        .map(|s| format!("{} ({})", s.name().to_uppercase(), s.code()))
        .collect();
    Err(PyValueError::new_err(format!(
        "status must be one of {}, not {}",
        listed.join(", "),
        status.code()
    )))
}
