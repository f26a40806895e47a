//! `httpqq._native`: the Python skin over the `httpqq` crate (and the
//! reference server, for `httpqq.testing`). The package `httpqq` re-exports
//! it with the enums, the exceptions and type hints.

mod agent;
mod client;
mod codec;
mod convert;
mod errors;
mod events;
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
fn refresh_logging(py: Python<'_>) -> PyResult<()> {
    if let Some(reset) = LOG_RESET.get() {
        reset.reset();
    }
    // Records no `httpqq` logger would take are not even made: a call's
    // debug records (and `ureq`'s) cost nothing while nobody listens.
    log::set_max_level(most_verbose_level(py)?);
    Ok(())
}

/// The most verbose level any of the `httpqq` loggers (`httpqq`,
/// `httpqq.server`, …) takes now, after `logging.disable`.
fn most_verbose_level(py: Python<'_>) -> PyResult<log::LevelFilter> {
    let logging = py.import("logging")?;
    let manager = logging.getattr("Logger")?.getattr("manager")?;
    let logger_class = logging.getattr("Logger")?;
    let effective = |logger: &Bound<'_, PyAny>| -> PyResult<i64> {
        logger.call_method0("getEffectiveLevel")?.extract()
    };
    let mut lowest = effective(&logging.call_method1("getLogger", ("httpqq",))?)?;
    let loggers = manager.getattr("loggerDict")?.call_method0("copy")?;
    for item in loggers.call_method0("items")?.try_iter()? {
        let (name, logger): (String, Bound<'_, PyAny>) = item?.extract()?;
        if name.starts_with("httpqq.") && logger.is_instance(&logger_class)? {
            lowest = lowest.min(effective(&logger)?);
        }
    }
    let disabled: i64 = manager.getattr("disable")?.extract()?;
    Ok(match lowest.max(disabled + 1) {
        ..=9 => log::LevelFilter::Trace,
        10..=19 => log::LevelFilter::Debug,
        20..=29 => log::LevelFilter::Info,
        30..=39 => log::LevelFilter::Warn,
        40..=50 => log::LevelFilter::Error,
        _ => log::LevelFilter::Off,
    })
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
    refresh_logging(m.py())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_BODY_BYTES", httpqq::codec::MAX_BODY_BYTES)?;
    m.add_class::<client::Client>()?;
    m.add_class::<client::Session>()?;
    m.add_class::<events::Events>()?;
    m.add_class::<agent::Agent>()?;
    m.add_class::<agent::Event>()?;
    m.add_class::<model::Message>()?;
    m.add_class::<model::OnlineFriend>()?;
    m.add_class::<model::UserInfo>()?;
    m.add_class::<model::LoginOutcome>()?;
    m.add_class::<codec::Request>()?;
    m.add_class::<server::Server>()?;
    m.add_class::<wait::Cancel>()?;
    m.add_function(wrap_pyfunction!(codec::encode_request, m)?)?;
    m.add_function(wrap_pyfunction!(codec::decode_reply, m)?)?;
    m.add_function(wrap_pyfunction!(model::codes, m)?)?;
    m.add_function(wrap_pyfunction!(refresh_logging, m)?)?;
    // The Python classes the module hands out, looked up now: a missing one
    // fails the import, not the first call that needs it.
    errors::resolve_all(m.py())?;
    Ok(())
}
