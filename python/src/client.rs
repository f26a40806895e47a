//! `Client` and `Session`: the core client, every
//! network call run on the core's runtime while Python waits for it in
//! slices, without the GIL, interruptible by Ctrl-C.

use crate::convert::{code, member, seconds, EnumClass};
use crate::errors::to_py;
use crate::events::Events;
use crate::model::{Message, OnlineFriend, UserInfo};
use crate::wait::blocking;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::sync::Arc;

/// A client of one HTTP QQ server. Safe to share between threads.
#[pyclass(frozen, module = "httpqq")]
pub(crate) struct Client {
    client: httpqq::Client,
    host: String,
    port: u16,
    tls: bool,
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (
        host = "tqq.tencent.com",
        port = None,
        *,
        timeout = 30.0,
        connect_timeout = 10.0,
        keep_alive = false,
        auto_relogin = false,
        max_reply_size = 16_777_216,
        tls = None,
        ca_file = None,
        ca_pem = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        host: &str,
        port: Option<&Bound<'_, PyAny>>,
        timeout: f64,
        connect_timeout: f64,
        keep_alive: bool,
        auto_relogin: bool,
        max_reply_size: i64,
        tls: Option<bool>,
        ca_file: Option<std::path::PathBuf>,
        ca_pem: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        // Core reads the address; a bare IPv6 address (several colons) is
        // a host here, as `Client("::1")` always was.
        let written = if host.matches(':').count() > 1 && !host.contains(['[', '/']) {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let address = httpqq::Address::parse(&written).map_err(|err| to_py(py, err))?;
        let https = address.https;
        let port_in_host = address.port;
        let host = address
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if https && tls == Some(false) {
            return Err(PyValueError::new_err(
                "an https:// address with tls=False: leave tls out, or use http://",
            ));
        }
        let tls = tls.unwrap_or(https);
        let port = match (port, port_in_host) {
            (Some(_), Some(_)) => {
                return Err(PyValueError::new_err(
                    "the port is given twice: in the address and as port=",
                ))
            }
            (Some(port), None) => crate::convert::port(port)?,
            (None, Some(port)) => port,
            (None, None) => address.port_or_default(),
        };
        let host = host.as_str();
        let max_reply_size = u64::try_from(max_reply_size)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "max_reply_size must be a positive number of bytes, not {max_reply_size}"
                ))
            })?;
        let endpoint = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut builder = httpqq::Client::builder().endpoint(endpoint).tls(tls);
        if let Some(path) = ca_file {
            builder = builder.ca_file(path);
        }
        if let Some(pem) = ca_pem {
            let pem: Vec<u8> = if let Ok(text) = pem.extract::<String>() {
                text.into_bytes()
            } else if let Ok(bytes) = pem.extract::<Vec<u8>>() {
                bytes
            } else {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "ca_pem must be str or bytes (PEM text)",
                ));
            };
            builder = builder.ca_pem(pem);
        }
        let client = builder
            .timeout(seconds(timeout, "timeout")?)
            .connect_timeout(seconds(connect_timeout, "connect_timeout")?)
            .keep_alive(keep_alive)
            .auto_relogin(auto_relogin)
            .max_reply_size(max_reply_size)
            .build()
            .map_err(|err| to_py(py, err))?;
        Ok(Client {
            client,
            host: host.to_owned(),
            port,
            tls,
        })
    }

    /// Whether it speaks TLS to the server.
    #[getter]
    fn tls(&self) -> bool {
        self.tls
    }

    /// The server's host name or address.
    #[getter]
    fn host(&self) -> &str {
        &self.host
    }

    /// The server's port.
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// Logs in; only the password's MD5 is sent.
    fn login(&self, py: Python<'_>, uin: &Bound<'_, PyAny>, password: &str) -> PyResult<Session> {
        let uin = crate::convert::uin(uin, "uin")?;
        let hash = httpqq::PasswordHash::from_password(password);
        let client = self.client.clone();
        let session = blocking(py, move || client.login_with_hash(uin, hash))?;
        Ok(Session::new(session))
    }

    /// Logs in with the password's MD5 as 32 hex digits.
    fn login_md5(
        &self,
        py: Python<'_>,
        uin: &Bound<'_, PyAny>,
        password_md5: &str,
    ) -> PyResult<Session> {
        let uin = crate::convert::uin(uin, "uin")?;
        let hash = httpqq::PasswordHash::from_md5_hex(password_md5)
            .ok_or_else(|| PyValueError::new_err("password_md5 must be 32 hexadecimal digits"))?;
        let client = self.client.clone();
        let session = blocking(py, move || client.login_with_hash(uin, hash))?;
        Ok(Session::new(session))
    }

    fn __repr__(&self) -> String {
        let tls = if self.tls { ", tls=True" } else { "" };
        format!("Client(host={:?}, port={}{tls})", self.host, self.port)
    }
}

impl Client {
    /// The core client, for the agent.
    pub(crate) fn core(&self) -> &httpqq::Client {
        &self.client
    }
}

/// A logged-in session. Safe to share between threads; a context manager
/// that logs out on exit.
#[pyclass(frozen, module = "httpqq")]
pub(crate) struct Session {
    session: Arc<httpqq::Session>,
}

impl Session {
    fn new(session: httpqq::Session) -> Self {
        Session::shared(Arc::new(session))
    }

    /// A session object for a session shared with an agent.
    pub(crate) fn shared(session: Arc<httpqq::Session>) -> Self {
        Session { session }
    }

    /// Runs a command on the runtime, waiting for it interruptibly.
    fn run<T: Send + 'static>(
        &self,
        py: Python<'_>,
        command: impl FnOnce(&httpqq::Session) -> Result<T, httpqq::Error> + Send + 'static,
    ) -> PyResult<T> {
        let session = Arc::clone(&self.session);
        blocking(py, move || command(&session))
    }
}

#[pymethods]
impl Session {
    /// This session's UIN.
    #[getter]
    fn uin(&self) -> u64 {
        self.session.uin().get()
    }

    /// How often to poll, in seconds (`HI`).
    #[getter]
    fn heartbeat(&self) -> f64 {
        self.session.heartbeat().as_secs_f64()
    }

    /// How long the session may stay silent, in seconds (`LI`).
    #[getter]
    fn idle_timeout(&self) -> f64 {
        self.session.idle_timeout().as_secs_f64()
    }

    /// Logs in again with the same credentials.
    fn relogin(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |s| s.relogin())
    }

    /// Turns automatic re-login on `RES=20` on or off.
    fn set_auto_relogin(&self, on: bool) {
        self.session.set_auto_relogin(on);
    }

    /// The number of friends.
    fn friend_count(&self, py: Python<'_>) -> PyResult<u32> {
        self.run(py, |s| s.friend_count())
    }

    /// The friends' UINs, at most `max` (default 160).
    #[pyo3(signature = (*, max = None))]
    fn friends(&self, py: Python<'_>, max: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<u64>> {
        let max = max.map(|m| code(m, "max")).transpose()?;
        let uins = self.run(py, move |s| match max {
            Some(max) => s.friends_max(max),
            None => s.friends(),
        })?;
        Ok(uins.into_iter().map(|u| u.get()).collect())
    }

    /// The number of friends online.
    fn online_count(&self, py: Python<'_>) -> PyResult<u32> {
        self.run(py, |s| s.online_count())
    }

    /// The friends online, at most `max` (default 160).
    #[pyo3(signature = (*, max = None))]
    fn online_friends(
        &self,
        py: Python<'_>,
        max: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<OnlineFriend>> {
        let max = max.map(|m| code(m, "max")).transpose()?;
        let friends = self.run(py, move |s| match max {
            Some(max) => s.online_friends_max(max),
            None => s.online_friends(),
        })?;
        Ok(friends.into_iter().map(OnlineFriend::from).collect())
    }

    /// A user's profile at `level` (`InfoLevel`, default `FULL`).
    #[pyo3(signature = (uin, *, level = None))]
    fn user_info(
        &self,
        py: Python<'_>,
        uin: &Bound<'_, PyAny>,
        level: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<UserInfo> {
        let target = crate::convert::uin(uin, "uin")?;
        let level = match level {
            None => httpqq::InfoLevel::Full,
            Some(level) => info_level(code(level, "level")?)?,
        };
        Ok(self.run(py, move |s| s.user_info(target, level))?.into())
    }

    /// Adds a friend; gives an `AddFriendOutcome` (anything from `REFUSED`
    /// up is a refusal).
    fn add_friend<'py>(
        &self,
        py: Python<'py>,
        uin: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let target = crate::convert::uin(uin, "uin")?;
        let outcome = self.run(py, move |s| s.add_friend(target))?;
        member(py, EnumClass::AddFriendOutcome, outcome.code())
    }

    /// Approves a request to add you.
    fn approve(&self, py: Python<'_>, uin: &Bound<'_, PyAny>) -> PyResult<()> {
        let target = crate::convert::uin(uin, "uin")?;
        self.run(py, move |s| s.approve(target))
    }

    /// Rejects a request to add you, with a reason.
    #[pyo3(signature = (uin, reason = ""))]
    fn reject(&self, py: Python<'_>, uin: &Bound<'_, PyAny>, reason: &str) -> PyResult<()> {
        let target = crate::convert::uin(uin, "uin")?;
        let reason = reason.to_owned();
        self.run(py, move |s| s.reject(target, &reason))
    }

    /// Asks a user who wants verification to accept you.
    #[pyo3(signature = (uin, reason = ""))]
    fn request_verification(
        &self,
        py: Python<'_>,
        uin: &Bound<'_, PyAny>,
        reason: &str,
    ) -> PyResult<()> {
        let target = crate::convert::uin(uin, "uin")?;
        let reason = reason.to_owned();
        self.run(py, move |s| s.request_verification(target, &reason))
    }

    /// Removes a friend.
    fn remove_friend(&self, py: Python<'_>, uin: &Bound<'_, PyAny>) -> PyResult<()> {
        let target = crate::convert::uin(uin, "uin")?;
        self.run(py, move |s| s.remove_friend(target))
    }

    /// Changes your status (`Status`).
    fn set_status(&self, py: Python<'_>, status: &Bound<'_, PyAny>) -> PyResult<()> {
        let status = crate::convert::settable_status(status)?;
        self.run(py, move |s| s.set_status(status))
    }

    /// Fetches the pending messages, oldest first; each arrives once.
    fn messages(&self, py: Python<'_>) -> PyResult<Vec<Message>> {
        let batch = self.run(py, |s| s.fetch_messages())?;
        Ok(batch.into_iter().map(Message::from).collect())
    }

    /// The keep-alive poll (the same request as `messages`).
    fn poll(&self, py: Python<'_>) -> PyResult<Vec<Message>> {
        self.messages(py)
    }

    /// Sends a text message.
    fn send(&self, py: Python<'_>, uin: &Bound<'_, PyAny>, text: &str) -> PyResult<()> {
        let target = crate::convert::uin(uin, "uin")?;
        let text = text.to_owned();
        self.run(py, move |s| s.send_message(target, &text))
    }

    /// Logs out.
    fn logout(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |s| s.logout())
    }

    /// Iterates over incoming messages forever: an agent on this session
    /// (see `Agent`) that yields messages only. It polls every `interval`
    /// seconds while none arrive (and as often as the session needs), rides
    /// out network failures and server restarts with backoff, waits out
    /// penalties and logs in again; it never ends on a transient failure.
    #[pyo3(signature = (*, interval = 1.0))]
    fn events(&self, py: Python<'_>, interval: f64) -> PyResult<Events> {
        Events::start(Arc::clone(&self.session), seconds(interval, "interval")?)
            .map_err(|err| to_py(py, err))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Logs out; a session already ended on the server is no error here,
    /// and a failure to log out never hides the exception that ended the
    /// `with` block.
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let session = Arc::clone(&self.session);
        let logout = blocking(py, move || match session.logout() {
            Err(httpqq::Error::NotLoggedIn) => Ok(()),
            other => other,
        });
        match logout {
            Ok(()) => Ok(false),
            Err(_) if exc_type.is_some() => Ok(false),
            Err(err) => Err(err),
        }
    }

    fn __repr__(&self) -> String {
        format!("Session(uin={})", self.session.uin())
    }
}

pub(crate) fn info_level(code: u32) -> PyResult<httpqq::InfoLevel> {
    httpqq::InfoLevel::try_from(code).map_err(|e| PyValueError::new_err(e.to_string()))
}
