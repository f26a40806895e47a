//! The typed results as immutable Python objects with `repr`, equality and
//! hashing, and the code tables the `httpqq.enums` classes are checked
//! against.

use crate::convert::{member, optional_member};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Formats a Python `repr` of a result: `Name(field=repr, ...)`.
fn repr(py: Python<'_>, name: &str, fields: &[(&str, Bound<'_, PyAny>)]) -> PyResult<String> {
    let _ = py;
    let mut out = format!("{name}(");
    for (n, (key, value)) in fields.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        out.push_str(key);
        out.push('=');
        out.push_str(&value.repr()?.to_cow()?);
    }
    out.push(')');
    Ok(out)
}

/// An incoming message.
#[pyclass(frozen, eq, hash, module = "httpqq")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Message {
    kind: u32,
    sender: u64,
    text: String,
    status: Option<u32>,
}

impl From<httpqq::Message> for Message {
    fn from(message: httpqq::Message) -> Self {
        let status = match &message {
            httpqq::Message::StatusChange { status, .. } => Some(status.code()),
            _ => None,
        };
        Message {
            kind: message.kind().code(),
            sender: message.sender().get(),
            text: message.content().into_owned(),
            status,
        }
    }
}

#[pymethods]
impl Message {
    /// What kind of message this is (`MessageKind`).
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        member(py, "MessageKind", self.kind)
    }

    /// Who sent it (a UIN).
    #[getter]
    fn sender(&self) -> u64 {
        self.sender
    }

    /// The chat text, a verification request's or rejection's reason, ""
    /// for an approval, or a status change's code as text.
    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    /// For a status change, the new `Status`; otherwise `None`.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_member(py, "Status", self.status)
    }

    pub(crate) fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut fields = vec![
            ("kind", self.kind(py)?),
            ("sender", self.sender.into_pyobject(py)?.into_any()),
            ("text", self.text.as_str().into_pyobject(py)?.into_any()),
        ];
        if let Some(status) = self.status(py)? {
            fields.push(("status", status));
        }
        repr(py, "Message", &fields)
    }
}

/// A friend who is online.
#[pyclass(frozen, eq, hash, module = "httpqq")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct OnlineFriend {
    /// Their UIN.
    #[pyo3(get)]
    uin: u64,
    /// Their face id; the picture is `face // 3 + 1`.
    #[pyo3(get)]
    face: u32,
    status: u32,
    /// Their nickname.
    #[pyo3(get)]
    nickname: String,
}

impl From<httpqq::OnlineFriend> for OnlineFriend {
    fn from(friend: httpqq::OnlineFriend) -> Self {
        OnlineFriend {
            uin: friend.uin.get(),
            face: friend.face.id(),
            status: friend.status.code(),
            nickname: friend.nickname,
        }
    }
}

#[pymethods]
impl OnlineFriend {
    /// Their `Status` (online or busy in practice).
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        member(py, "Status", self.status)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr(
            py,
            "OnlineFriend",
            &[
                ("uin", self.uin.into_pyobject(py)?.into_any()),
                ("face", self.face.into_pyobject(py)?.into_any()),
                ("status", self.status(py)?),
                (
                    "nickname",
                    self.nickname.as_str().into_pyobject(py)?.into_any(),
                ),
            ],
        )
    }
}

/// What a successful login gave.
#[pyclass(frozen, eq, module = "httpqq")]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoginOutcome {
    /// How often to poll, in seconds (`HI`).
    #[pyo3(get)]
    heartbeat: f64,
    /// How long the session may stay silent, in seconds (`LI`).
    #[pyo3(get)]
    idle_timeout: f64,
}

impl From<httpqq::LoginOutcome> for LoginOutcome {
    fn from(outcome: httpqq::LoginOutcome) -> Self {
        LoginOutcome {
            heartbeat: outcome.heartbeat.as_secs_f64(),
            idle_timeout: outcome.idle_timeout.as_secs_f64(),
        }
    }
}

#[pymethods]
impl LoginOutcome {
    fn __repr__(&self) -> String {
        format!(
            "LoginOutcome(heartbeat={:?}, idle_timeout={:?})",
            self.heartbeat, self.idle_timeout
        )
    }
}

/// A user's profile (GetInfo). Fields the level did not include are
/// `None`; every field of the reply is in `fields`.
#[pyclass(frozen, eq, module = "httpqq")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserInfo {
    info: httpqq::UserInfo,
}

impl From<httpqq::UserInfo> for UserInfo {
    fn from(info: httpqq::UserInfo) -> Self {
        UserInfo { info }
    }
}

#[pymethods]
impl UserInfo {
    /// The level the server answered (`LV`).
    #[getter]
    fn level(&self) -> u32 {
        self.info.level
    }
    /// Whose profile this is.
    #[getter]
    fn uin(&self) -> u64 {
        self.info.uin.get()
    }
    /// Nickname (`NK`).
    #[getter]
    fn nickname(&self) -> &str {
        &self.info.nickname
    }
    /// Address (`AD`).
    #[getter]
    fn address(&self) -> Option<&str> {
        self.info.address.as_deref()
    }
    /// Age (`AG`).
    #[getter]
    fn age(&self) -> Option<u32> {
        self.info.age
    }
    /// Blood type (`BT`).
    #[getter]
    fn blood_type<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_member(py, "BloodType", self.info.blood_type.map(|v| v.code()))
    }
    /// Constellation (`CO`).
    #[getter]
    fn constellation<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_member(
            py,
            "Constellation",
            self.info.constellation.map(|v| v.code()),
        )
    }
    /// City (`CT`).
    #[getter]
    fn city(&self) -> Option<&str> {
        self.info.city.as_deref()
    }
    /// Country (`CY`).
    #[getter]
    fn country(&self) -> Option<&str> {
        self.info.country.as_deref()
    }
    /// E-mail (`EM`).
    #[getter]
    fn email(&self) -> Option<&str> {
        self.info.email.as_deref()
    }
    /// Face id (`FC`).
    #[getter]
    fn face(&self) -> Option<u32> {
        self.info.face.map(|f| f.id())
    }
    /// Home page (`HP`).
    #[getter]
    fn homepage(&self) -> Option<&str> {
        self.info.homepage.as_deref()
    }
    /// Occupation (`JB`).
    #[getter]
    fn occupation(&self) -> Option<&str> {
        self.info.occupation.as_deref()
    }
    /// Mobile phone (`MO`).
    #[getter]
    fn mobile(&self) -> Option<&str> {
        self.info.mobile.as_deref()
    }
    /// Postal code (`PC`).
    #[getter]
    fn postal_code(&self) -> Option<&str> {
        self.info.postal_code.as_deref()
    }
    /// Phone (`PH`).
    #[getter]
    fn phone(&self) -> Option<&str> {
        self.info.phone.as_deref()
    }
    /// Self-introduction (`PR`).
    #[getter]
    fn introduction(&self) -> Option<&str> {
        self.info.introduction.as_deref()
    }
    /// Province (`PV`).
    #[getter]
    fn province(&self) -> Option<&str> {
        self.info.province.as_deref()
    }
    /// Real name (`RN`).
    #[getter]
    fn real_name(&self) -> Option<&str> {
        self.info.real_name.as_deref()
    }
    /// School (`SC`).
    #[getter]
    fn school(&self) -> Option<&str> {
        self.info.school.as_deref()
    }
    /// Chinese zodiac (`SH`).
    #[getter]
    fn zodiac<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_member(py, "Zodiac", self.info.zodiac.map(|v| v.code()))
    }
    /// Gender (`SX`).
    #[getter]
    fn gender<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_member(py, "Gender", self.info.gender.map(|v| v.code()))
    }
    /// Every field of the reply after `RES`, decoded, in reply order.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (key, value) in &self.info.fields {
            dict.set_item(key, value)?;
        }
        Ok(dict)
    }

    /// The decoded value of any field by its key (e.g. `"CV"`), or
    /// `default`.
    #[pyo3(signature = (key, default = None))]
    fn get(&self, key: &str, default: Option<String>) -> Option<String> {
        self.info.get(key).map(str::to_owned).or(default)
    }

    fn __repr__(&self) -> String {
        format!(
            "UserInfo(uin={}, nickname={:?}, level={})",
            self.info.uin, self.info.nickname, self.info.level
        )
    }
}

/// The code tables of the protocol's enums, by class name: `(NAME, code)`
/// pairs in code order, from the core. `httpqq.enums` is checked against
/// them by the test suite.
#[pyfunction]
pub(crate) fn codes() -> Vec<(&'static str, Vec<(String, u32)>)> {
    fn table<T: Copy>(
        all: &[T],
        name: fn(T) -> &'static str,
        code: fn(T) -> u32,
    ) -> Vec<(String, u32)> {
        all.iter()
            .map(|v| (name(*v).to_uppercase().replace(' ', "_"), code(*v)))
            .collect()
    }
    use httpqq::{BloodType, Constellation, Gender, MessageKind, Status, Zodiac};
    let kinds = [
        MessageKind::VerificationRequest,
        MessageKind::Approved,
        MessageKind::Rejected,
        MessageKind::Text,
        MessageKind::StatusChange,
    ];
    vec![
        ("Status", table(Status::ALL, Status::name, Status::code)),
        ("Gender", table(Gender::ALL, Gender::name, Gender::code)),
        (
            "BloodType",
            table(BloodType::ALL, BloodType::name, BloodType::code),
        ),
        (
            "Constellation",
            table(Constellation::ALL, Constellation::name, Constellation::code),
        ),
        ("Zodiac", table(Zodiac::ALL, Zodiac::name, Zodiac::code)),
        (
            "MessageKind",
            table(&kinds, MessageKind::name, MessageKind::code),
        ),
        (
            "Outcome",
            table(
                &httpqq::Outcome::ALL,
                httpqq::Outcome::name,
                httpqq::Outcome::code,
            ),
        ),
        (
            "EventKind",
            httpqq::EventKind::CODES
                .iter()
                .map(|(code, name)| (name.to_uppercase().replace(' ', "_"), *code))
                .collect(),
        ),
        (
            "AgentState",
            table(
                &httpqq::State::ALL,
                httpqq::State::name,
                httpqq::State::code,
            ),
        ),
        (
            "InfoLevel",
            vec![
                ("BRIEF".into(), httpqq::InfoLevel::Brief.code()),
                ("NORMAL".into(), httpqq::InfoLevel::Normal.code()),
                ("FULL".into(), httpqq::InfoLevel::Full.code()),
            ],
        ),
        (
            "AddFriendOutcome",
            vec![
                ("ADDED".into(), httpqq::AddFriendOutcome::Added.code()),
                (
                    "NEEDS_VERIFICATION".into(),
                    httpqq::AddFriendOutcome::NeedsVerification.code(),
                ),
                (
                    "REFUSED".into(),
                    httpqq::AddFriendOutcome::Refused { code: 2 }.code(),
                ),
            ],
        ),
        (
            "Verification",
            vec![
                ("APPROVE".into(), httpqq::Verification::Approve as u32),
                ("REJECT".into(), httpqq::Verification::Reject as u32),
                ("REQUEST".into(), httpqq::Verification::Request as u32),
            ],
        ),
    ]
}
