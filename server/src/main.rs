//! `httpqq-server`: the reference server as a command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use httpqq_server::{Accounts, Config, Server};

/// A faithful HTTP QQ 1.1 server (the protocol Tencent served at
/// tqq.tencent.com:8000), for demos and tests.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,

    /// TOML account file (see server/accounts.example.toml).
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    accounts: Option<PathBuf>,

    /// Use the built-in demo accounts 10001-10005, password "demo"
    /// (the default when no --accounts is given).
    #[arg(long)]
    demo: bool,

    /// Keep accounts, friend lists and undelivered messages in FILE across
    /// restarts (written atomically after every change).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Seconds of silence after which a session ends (the LI of Login).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    idle_timeout: u64,

    /// Messages one user may send per 10 seconds before CLTMSG answers
    /// RES=3 (raise it for load tests).
    #[arg(long, value_name = "COUNT", default_value_t = 100)]
    send_limit: u32,

    /// Behave like the original: close every connection after its reply and
    /// hold RES=3 replies back 20 s (30 s for DelFromList).
    #[arg(long)]
    faithful: bool,

    /// Reproduce one of the original's quirks (repeatable).
    #[arg(long, value_enum, value_name = "QUIRK")]
    quirk: Vec<Quirk>,

    /// Log every request to standard error.
    #[arg(long, short)]
    verbose: bool,
}

/// The original's quirks.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Quirk {
    /// A verification request must be sent twice: the first is answered
    /// RES=3 and not delivered.
    VerificationTwice,
}

/// Prints log records to standard error.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        eprintln!("{} {}: {}", record.level(), record.target(), record.args());
    }
    fn flush(&self) {}
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _ = log::set_logger(&StderrLog);
    log::set_max_level(if args.verbose {
        log::LevelFilter::Info
    } else {
        log::LevelFilter::Warn
    });
    let accounts = match &args.accounts {
        Some(path) => match Accounts::load(path) {
            Ok(accounts) => accounts,
            Err(err) => {
                eprintln!("httpqq-server: {err}");
                return ExitCode::from(2);
            }
        },
        None => Accounts::demo(),
    };
    let mut config = Config {
        listen: args.listen,
        accounts,
        state: args.state,
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        ..Config::default()
    };
    config.send_limit.count = args.send_limit;
    if args.faithful {
        config = config.faithful();
    }
    for quirk in args.quirk {
        match quirk {
            Quirk::VerificationTwice => config.quirks.verification_twice = true,
        }
    }
    let server = match Server::start(config) {
        Ok(server) => server,
        Err(err) => {
            eprintln!("httpqq-server: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("httpqq-server listening on {}", server.local_addr());
    // Serve until the process is stopped. Every change is on disk (with
    // --state) before it is acknowledged, so stopping by a signal is safe.
    loop {
        std::thread::park();
    }
}
