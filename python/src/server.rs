//! The reference server in-process, for `httpqq.testing.Server`.

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Mutex;

/// A running reference server (use `httpqq.testing.Server`).
#[pyclass(frozen, module = "httpqq._native")]
pub(crate) struct Server {
    server: Mutex<Option<httpqq_server::Server>>,
    host: String,
    port: u16,
}

#[pymethods]
impl Server {
    #[new]
    #[pyo3(signature = (*, accounts_path = None, accounts_toml = None, listen = "127.0.0.1:0", idle_timeout = None))]
    fn new(
        py: Python<'_>,
        accounts_path: Option<PathBuf>,
        accounts_toml: Option<&str>,
        listen: &str,
        idle_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let mut config = httpqq_server::Config {
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
        let server = py
            .detach(|| httpqq_server::Server::start(config))
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        let addr = server.local_addr();
        Ok(Server {
            server: Mutex::new(Some(server)),
            host: addr.ip().to_string(),
            port: addr.port(),
        })
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

    /// Stops: requests in flight finish, connections close. Idempotent.
    fn stop(&self, py: Python<'_>) {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(server) = server {
            // Without the GIL: the server's threads may be logging to Python.
            py.detach(|| server.stop());
        }
    }
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
