//! `httpqq._native`: the Python skin over the `httpqq` crate (and the
//! reference server, for `httpqq.testing`). The package `httpqq` re-exports
//! it with the enums, the exceptions and type hints.

mod agent;
mod client;
mod codec;
mod convert;
mod errors;
mod model;
mod server;
mod wait;

use pyo3::prelude::*;

/// Resets the cache of Python logger levels (kept so that Rust need not
/// take the GIL to learn that a record is filtered out).
static LOG_RESET: std::sync::OnceLock<pyo3_log::ResetHandle> = std::sync::OnceLock::new();

/// Clears the cache of the `httpqq` loggers' levels, so that a level
/// assigned to `logger.level` directly takes effect (`setLevel` and the
/// `logging` config functions clear it by themselves).
#[pyfunction]
fn refresh_logging() {
    if let Some(reset) = LOG_RESET.get() {
        reset.reset();
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Rust `log` records go to Python's `logging` (loggers `httpqq`,
    // `httpqq.server`).
    // `ureq`'s own records stay at WARNING and above: its debug output is
    // noise to users of this package.
    let reset = pyo3_log::Logger::new(m.py(), pyo3_log::Caching::LoggersAndLevels)?
        .filter_target("ureq".to_owned(), log::LevelFilter::Warn)
        .filter_target("ureq_proto".to_owned(), log::LevelFilter::Warn)
        .install()
        .map_err(|err| pyo3::exceptions::PyRuntimeError::new_err(err.to_string()))?;
    let _ = LOG_RESET.set(reset);
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_BODY_BYTES", httpqq::codec::MAX_BODY_BYTES)?;
    m.add_class::<client::Client>()?;
    m.add_class::<client::Session>()?;
    m.add_class::<client::Events>()?;
    m.add_class::<agent::Agent>()?;
    m.add_class::<agent::Event>()?;
    m.add_class::<model::Message>()?;
    m.add_class::<model::OnlineFriend>()?;
    m.add_class::<model::UserInfo>()?;
    m.add_class::<model::LoginOutcome>()?;
    m.add_class::<codec::Request>()?;
    m.add_class::<server::Server>()?;
    m.add_function(wrap_pyfunction!(codec::encode_request, m)?)?;
    m.add_function(wrap_pyfunction!(codec::decode_reply, m)?)?;
    m.add_function(wrap_pyfunction!(model::codes, m)?)?;
    m.add_function(wrap_pyfunction!(refresh_logging, m)?)?;
    // The Python classes the module hands out, looked up now: a missing one
    // fails the import, not the first call that needs it.
    errors::resolve_all(m.py())?;
    Ok(())
}
