//! The typed results as immutable Python objects with `repr`, equality and
//! hashing, and the code tables the `httpqq.enums` classes are checked
//! against.

use crate::convert::{member, optional_member, EnumClass};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};

/// What `__reduce__` gives pickle: the class and its constructor's
/// arguments, so a result is rebuilt by calling the class.
type Reduced<'py> = (Bound<'py, PyType>, Bound<'py, PyTuple>);

fn reduced<'py, T: pyo3::PyClass>(
    slf: &Bound<'py, T>,
    args: impl IntoPyObject<'py, Target = PyTuple, Output = Bound<'py, PyTuple>>,
) -> PyResult<Reduced<'py>> {
    let args = args.into_pyobject(slf.py()).map_err(Into::into)?;
    Ok((slf.as_any().get_type(), args))
}

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
    /// The agent that fetched it, for `reply`; not part of its value.
    agent: AgentLink,
}

/// The agent a message came from (weakly: a message does not keep its
/// agent alive). Equal and hashed alike whatever it holds: two messages
/// are the same whichever agent fetched them.
#[derive(Debug, Clone, Default)]
pub(crate) struct AgentLink(Option<std::sync::Weak<httpqq::Agent>>);

impl PartialEq for AgentLink {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for AgentLink {}

impl std::hash::Hash for AgentLink {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
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
            agent: AgentLink::default(),
        }
    }
}

impl Message {
    /// A message `agent` fetched: `reply` answers through it.
    pub(crate) fn from_agent(
        message: httpqq::Message,
        agent: &std::sync::Arc<httpqq::Agent>,
    ) -> Self {
        Message {
            agent: AgentLink(Some(std::sync::Arc::downgrade(agent))),
            ..Message::from(message)
        }
    }
}

#[pymethods]
impl Message {
    /// A message as the server would deliver it (for tests of your own
    /// code): `kind` a `MessageKind` (or its code), `status` the new
    /// `Status` of a status change.
    #[new]
    #[pyo3(signature = (kind, sender, text, status = None))]
    fn py_new(
        kind: &Bound<'_, PyAny>,
        sender: &Bound<'_, PyAny>,
        text: String,
        status: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(Message {
            kind: crate::convert::code(kind, "kind")?,
            sender: crate::convert::wire_uin(sender, "sender")?.get(),
            text,
            status: status
                .map(|s| crate::convert::code(s, "status"))
                .transpose()?,
            agent: AgentLink::default(),
        })
    }

    /// Answers the sender with a text message, through the agent (or bot)
    /// that fetched this message: as `Agent.send`, paced, a send refused
    /// for a penalty sent again after it. `RuntimeError` for a message no
    /// agent fetched (built by hand, unpickled) or whose agent is gone.
    fn reply(&self, py: Python<'_>, text: &str) -> PyResult<()> {
        let agent = self.agent.0.as_ref().and_then(std::sync::Weak::upgrade).ok_or_else(|| {
            pyo3::exceptions::PyRuntimeError::new_err(
                "this message came from no agent (or its agent is gone): reply with a session's or agent's send",
            )
        })?;
        let target = crate::convert::uin(&self.sender.into_pyobject(py)?.into_any(), "sender")?;
        let text = text.to_owned();
        crate::wait::blocking(py, move || agent.send(target, &text))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let m = slf.get();
        reduced(slf, (m.kind, m.sender, m.text.clone(), m.status))
    }

    /// What kind of message this is (`MessageKind`).
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        member(py, EnumClass::MessageKind, self.kind)
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
        optional_member(py, EnumClass::Status, self.status)
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
    /// An online friend as the server would list one (for tests).
    #[new]
    #[pyo3(signature = (uin, face, status, nickname))]
    fn py_new(
        uin: &Bound<'_, PyAny>,
        face: &Bound<'_, PyAny>,
        status: &Bound<'_, PyAny>,
        nickname: String,
    ) -> PyResult<Self> {
        Ok(OnlineFriend {
            uin: crate::convert::wire_uin(uin, "uin")?.get(),
            face: crate::convert::code(face, "face")?,
            status: crate::convert::code(status, "status")?,
            nickname,
        })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let f = slf.get();
        reduced(slf, (f.uin, f.face, f.status, f.nickname.clone()))
    }

    /// Their `Status` (online or busy in practice).
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        member(py, EnumClass::Status, self.status)
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
    /// What a login gave (for tests): both in seconds.
    #[new]
    fn py_new(heartbeat: f64, idle_timeout: f64) -> PyResult<Self> {
        crate::convert::seconds(heartbeat, "heartbeat")?;
        crate::convert::seconds(idle_timeout, "idle_timeout")?;
        Ok(LoginOutcome {
            heartbeat,
            idle_timeout,
        })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let o = slf.get();
        reduced(slf, (o.heartbeat, o.idle_timeout))
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.heartbeat.to_bits().hash(&mut hasher);
        self.idle_timeout.to_bits().hash(&mut hasher);
        hasher.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "LoginOutcome(heartbeat={:?}, idle_timeout={:?})",
            self.heartbeat, self.idle_timeout
        )
    }
}

/// A user's profile (GetInfo). Fields the level did not include are
/// `None`; every field of the reply is in `fields`.
#[pyclass(frozen, eq, hash, module = "httpqq")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// A profile as the server would give it (for tests): `fields` are
    /// its reply's fields after `RES` (a mapping or `(key, value)` pairs,
    /// `UN` required), read exactly as the codec reads a reply:
    /// `UserInfo({"UN": "10001", "NK": "Alice", "AG": "20"})`.
    #[new]
    fn py_new(fields: &Bound<'_, PyAny>) -> PyResult<Self> {
        let pairs: Vec<(String, String)> = match fields.cast::<PyDict>() {
            Ok(dict) => dict.items().extract()?,
            Err(_) => fields.extract()?,
        };
        httpqq::codec::user_info_from_fields(&pairs)
            .map(UserInfo::from)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        reduced(slf, (slf.get().info.fields.clone(),))
    }

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
        optional_member(
            py,
            EnumClass::BloodType,
            self.info.blood_type.map(|v| v.code()),
        )
    }
    /// Constellation (`CO`).
    #[getter]
    fn constellation<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_member(
            py,
            EnumClass::Constellation,
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
        optional_member(py, EnumClass::Zodiac, self.info.zodiac.map(|v| v.code()))
    }
    /// Gender (`SX`).
    #[getter]
    fn gender<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_member(py, EnumClass::Gender, self.info.gender.map(|v| v.code()))
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
