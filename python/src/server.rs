//! The reference server in-process, for `httpqq.testing.Server`.

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Mutex;

/// How many requests the in-process server's log keeps.
const REQUEST_LOG: usize = 100_000;

/// A running reference server (use `httpqq.testing.Server`).
#[pyclass(frozen, module = "httpqq._native")]
pub(crate) struct Server {
    server: Mutex<Option<httpqq_server::Server>>,
    host: String,
    port: u16,
    /// The TLS listener's port and certificate (PEM), if it has one.
    tls: Option<(u16, String)>,
}

#[pymethods]
impl Server {
    #[new]
    #[pyo3(signature = (*, accounts_path = None, accounts_toml = None, listen = "127.0.0.1:0", idle_timeout = None, tls = false))]
    fn new(
        py: Python<'_>,
        accounts_path: Option<PathBuf>,
        accounts_toml: Option<&str>,
        listen: &str,
        idle_timeout: Option<f64>,
        tls: bool,
    ) -> PyResult<Self> {
        let mut config = httpqq_server::Config {
            request_log: REQUEST_LOG,
            listen: listen.parse().map_err(|_| {
                PyValueError::new_err(format!(
                    "listen must be an address such as 127.0.0.1:0, not {listen:?}"
                ))
            })?,
            ..Default::default()
        };
        let accounts = match (accounts_path, accounts_toml) {
            (Some(_), Some(_)) => {
                return Err(PyValueError::new_err(
                    "give accounts_path or accounts_toml, not both",
                ))
            }
            (Some(path), None) => Some(httpqq_server::Accounts::load(&path)),
            (None, Some(text)) => Some(httpqq_server::Accounts::parse(text)),
            (None, None) => None,
        };
        if let Some(accounts) = accounts {
            config.accounts = accounts.map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        if let Some(idle) = idle_timeout {
            config.idle_timeout = crate::convert::seconds(idle, "idle_timeout")?;
        }
        let pem = if tls {
            let certificate =
                httpqq_server::TlsCertificate::self_signed().map_err(PyOSError::new_err)?;
            let pem = String::from_utf8_lossy(&certificate.chain_pem).into_owned();
            config.tls = Some(httpqq_server::TlsListen {
                listen: std::net::SocketAddr::new(config.listen.ip(), 0),
                certificate: httpqq_server::TlsSource::Given(certificate),
            });
            Some(pem)
        } else {
            None
        };
        let server = py
            .detach(|| httpqq_server::Server::start(config))
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        let addr = server.local_addr();
        let tls = server.tls_addr().zip(pem).map(|(a, pem)| (a.port(), pem));
        Ok(Server {
            server: Mutex::new(Some(server)),
            host: addr.ip().to_string(),
            port: addr.port(),
            tls,
        })
    }

    /// The TLS listener's port, if it has one.
    #[getter]
    fn tls_port(&self) -> Option<u16> {
        self.tls.as_ref().map(|(port, _)| *port)
    }

    /// The TLS listener's certificate (PEM), made at start, if it has one.
    #[getter]
    fn tls_ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|(_, pem)| pem.as_str())
    }

    /// The address it listens on.
    #[getter]
    fn host(&self) -> &str {
        &self.host
    }

    /// The port it listens on.
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// Test control: ends `uin`'s session now; whether it had one.
    fn expire_session(&self, uin: &Bound<'_, PyAny>) -> PyResult<bool> {
        let uin = crate::convert::uin(uin, "uin")?;
        self.control(|s| s.expire_session(uin))
    }

    /// Test control: `RES=3` to every request of `uin` but Logout for
    /// `seconds` (0: no more).
    fn throttle(&self, uin: &Bound<'_, PyAny>, seconds: f64) -> PyResult<()> {
        let uin = crate::convert::uin(uin, "uin")?;
        let duration = non_negative(seconds, "seconds")?;
        self.control(|s| s.throttle(uin, duration))
    }

    /// Test control: holds every reply back `seconds` longer (0: no more).
    fn set_latency(&self, seconds: f64) -> PyResult<()> {
        let latency = non_negative(seconds, "seconds")?;
        self.control(|s| s.set_latency(latency))
    }

    /// Test control: accepts connections, answers nothing until `resume`.
    fn pause(&self) -> PyResult<()> {
        self.control(httpqq_server::Server::pause)
    }

    /// Test control: answers again after `pause`.
    fn resume(&self) -> PyResult<()> {
        self.control(httpqq_server::Server::resume)
    }

    /// Test control: stops listening as a crashed server would (sessions
    /// forgotten, data kept) until `restart`.
    fn stop_listening(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.control(httpqq_server::Server::stop_listening))
    }

    /// Test control: listens again on the same address.
    fn restart(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.control(|s| s.restart()))?
            .map_err(|e| PyOSError::new_err(e.to_string()))
    }

    /// Changes `uin`'s password; whether the account exists.
    fn change_password(&self, uin: &Bound<'_, PyAny>, password: &str) -> PyResult<bool> {
        let uin = crate::convert::uin(uin, "uin")?;
        self.control(|s| s.change_password(uin, password))
    }

    /// The connections accepted since the start.
    fn connections_accepted(&self) -> PyResult<u64> {
        self.control(httpqq_server::Server::connections_accepted)
    }

    /// Test control: answers every request but Login and Logout with
    /// `RES=20` while on (a client whose address changes per connection).
    fn drop_sessions(&self, on: bool) -> PyResult<()> {
        self.control(|s| s.drop_sessions(on))
    }

    /// The passwords checked against their slow hash since the start.
    fn password_checks(&self) -> PyResult<u64> {
        self.control(httpqq_server::Server::password_checks)
    }

    /// The latest requests: (seconds since the start, UIN or None, command
    /// or None, RES or None for the NULL), oldest first.
    fn requests(&self) -> PyResult<Vec<LoggedRequest>> {
        self.control(|s| {
            s.requests()
                .into_iter()
                .map(|r| {
                    (
                        r.at.as_secs_f64(),
                        r.uin.map(|u| u.get()),
                        r.command.map(|c| c.wire_name()),
                        r.result,
                    )
                })
                .collect()
        })
    }

    /// Empties the request log.
    fn clear_requests(&self) -> PyResult<()> {
        self.control(httpqq_server::Server::clear_requests)
    }

    /// Stops: requests in flight finish, connections close. Idempotent.
    fn stop(&self, py: Python<'_>) {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(server) = server {
            // Without the GIL: the server's threads may be logging to Python.
            py.detach(|| server.stop());
        }
    }
}

impl Server {
    /// Runs a control on the running server.
    fn control<T>(&self, act: impl FnOnce(&httpqq_server::Server) -> T) -> PyResult<T> {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner());
        server
            .as_ref()
            .map(act)
            .ok_or_else(|| PyOSError::new_err("the server was stopped"))
    }
}

/// One request of the log: (seconds since the start, UIN, command, RES),
/// made a `httpqq.testing.LoggedRequest` by the package.
type LoggedRequest = (f64, Option<u64>, Option<&'static str>, Option<u32>);

/// A duration in seconds that may be zero.
fn non_negative(seconds: f64, name: &str) -> PyResult<std::time::Duration> {
    if seconds == 0.0 {
        return Ok(std::time::Duration::ZERO);
    }
    crate::convert::seconds(seconds, name)
}

impl Drop for Server {
    fn drop(&mut self) {
        let server = self
            .server
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(server) = server {
            Python::attach(|py| py.detach(|| server.stop()));
        }
    }
}
