//! `httpqq-server`: the reference server as a command, and the
//! administration of its accounts (`httpqq-server accounts …`).

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use httpqq_server::admin::{AdminError, Database};
use httpqq_server::{Account, Accounts, AddPolicy, Config, HashCost, Server, TlsListen, TlsSource};
use zeroize::Zeroizing;

/// A faithful HTTP QQ 1.1 server (the protocol Tencent served at
/// tqq.tencent.com:8000), for demos, tests and real use.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,

    /// Also listen with TLS on this address (this project's extension:
    /// period clients stay on --listen). Needs --tls-cert and --tls-key;
    /// SIGHUP reloads them without dropping connections.
    #[arg(long, value_name = "ADDR", requires_all = ["tls_cert", "tls_key"])]
    tls_listen: Option<SocketAddr>,

    /// The TLS certificate chain (PEM, leaf first).
    #[arg(long, value_name = "FILE", requires = "tls_listen")]
    tls_cert: Option<PathBuf>,

    /// The TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_listen")]
    tls_key: Option<PathBuf>,

    /// Refuse a Login over plain HTTP from anything but this machine (RS=1,
    /// "login requires TLS…", as a wrong password is refused), so that no
    /// credential crosses the network in clear.
    #[arg(long, requires = "tls_listen")]
    login_requires_tls: bool,

    /// TOML account file (see server/accounts.example.toml): the accounts
    /// of a new database.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    accounts: Option<PathBuf>,

    /// Use the built-in demo accounts 10001-10005, password "demo"
    /// (the default when no --accounts is given).
    #[arg(long)]
    demo: bool,

    /// The database (SQLite) of accounts, friend lists and undelivered
    /// messages, kept across restarts; created (mode 0600) and seeded with
    /// the accounts when there is no file. Without it, everything lives in
    /// memory.
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

    /// Store password hashes cheaply (for tests only: they resist guessing
    /// far less).
    #[arg(long)]
    fast_hashing: bool,

    /// Log every request to standard error.
    #[arg(long, short)]
    verbose: bool,

    /// Allow core dumps (for debugging). By default the process cannot be
    /// dumped or traced: a dump would hold logged-in users' credentials
    /// and their messages.
    #[arg(long, global = true)]
    allow_core_dumps: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Administer the accounts of a database (the server may be running).
    /// Passwords are read from the environment variable HTTPQQ_PASSWORD, or
    /// else from a line of standard input; never from the command line.
    Accounts {
        /// The database (only add, import and import-state create one).
        #[arg(long, value_name = "FILE")]
        state: PathBuf,
        /// Store password hashes cheaply (for tests only).
        #[arg(long)]
        fast_hashing: bool,
        #[command(subcommand)]
        action: Action,
    },
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Add an account.
    Add {
        /// Its UIN (10000 to 4294967295).
        uin: Uin,
        /// Its nickname (at most 64 characters, no control characters).
        #[arg(long, default_value = "")]
        nickname: String,
        /// Its face id.
        #[arg(long, default_value_t = 0)]
        face: u32,
        /// Who may add it as a friend.
        #[arg(long, value_enum, default_value_t = Policy::Allow)]
        policy: Policy,
        /// A friend (an existing UIN; repeatable, in order).
        #[arg(long = "friend", value_name = "UIN")]
        friends: Vec<Uin>,
    },
    /// Change an account's password.
    Passwd {
        /// The account.
        uin: Uin,
    },
    /// Remove an account, its friend list, its place in others' lists and
    /// its undelivered messages.
    Remove {
        /// The account.
        uin: Uin,
    },
    /// List every account: UIN and nickname.
    List,
    /// Show one account (never its password).
    Show {
        /// The account.
        uin: Uin,
    },
    /// Import an account file (the format of --accounts), all or nothing.
    Import {
        /// The TOML account file.
        file: PathBuf,
    },
    /// Import an httpqq-server 0.1 state file (accounts, friend lists,
    /// undelivered messages) into a new database.
    ImportState {
        /// The TOML state file.
        file: PathBuf,
    },
}

/// A UIN given on the command line, read strictly by the core's rules
/// (digits only, 10000 to 4294967295).
#[derive(Debug, Clone, Copy)]
struct Uin(u64);

impl std::str::FromStr for Uin {
    type Err = httpqq::ParseUinError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse::<httpqq::Uin>().map(|uin| Uin(uin.get()))
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Policy {
    Allow,
    Verify,
    Refuse,
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
    if !args.allow_core_dumps {
        keep_out_of_core_dumps();
    }
    let _ = log::set_logger(&StderrLog);
    log::set_max_level(if args.verbose {
        log::LevelFilter::Info
    } else {
        log::LevelFilter::Warn
    });
    match args.command {
        Some(Command::Accounts {
            ref state,
            fast_hashing,
            ref action,
        }) => administer(state, cost(fast_hashing), action),
        None => serve(args),
    }
}

fn cost(fast: bool) -> HashCost {
    if fast {
        HashCost::Test
    } else {
        HashCost::Strong
    }
}

fn serve(args: Args) -> ExitCode {
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
        hash_cost: cost(args.fast_hashing),
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        tls: match (args.tls_listen, args.tls_cert, args.tls_key) {
            (Some(listen), Some(chain), Some(key)) => Some(TlsListen {
                listen,
                certificate: TlsSource::Files { chain, key },
            }),
            _ => None,
        },
        login_requires_tls: args.login_requires_tls,
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
    if let Some(tls_addr) = server.tls_addr() {
        println!("httpqq-server listening with TLS on {tls_addr}");
        reload_on_sighup();
    }
    // Serve until the process is stopped (every change is committed to the
    // database before it is acknowledged, so stopping by a signal is
    // safe), or until the database is lost under it.
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if RELOAD.swap(false, std::sync::atomic::Ordering::SeqCst) {
            match server.reload_tls() {
                Ok(()) => eprintln!("httpqq-server: TLS certificate reloaded"),
                Err(err) => eprintln!("httpqq-server: {err}; the old certificate stays"),
            }
        }
        if let Some(why) = server.fault() {
            eprintln!("httpqq-server: {why}: stopping; nothing was acknowledged since");
            server.stop();
            return ExitCode::FAILURE;
        }
    }
}

/// Set by SIGHUP: reload the TLS certificate.
static RELOAD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// SIGHUP sets [`RELOAD`] (all a signal handler may safely do); the main
/// loop does the reloading.
fn reload_on_sighup() {
    #[cfg(unix)]
    {
        extern "C" fn on_hup(_: libc::c_int) {
            RELOAD.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        // SAFETY: the handler only stores to an atomic (async-signal-safe);
        // the function pointer lives for the whole program.
        unsafe {
            libc::signal(
                libc::SIGHUP,
                on_hup as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// Makes the process impossible to dump or trace (Linux: not dumpable; any
/// Unix: no core file): a dump would hold logged-in users' credentials and
/// their messages, or a password being set.
fn keep_out_of_core_dumps() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct given, which lives across the
        // call; it only lowers this process's core file limit.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
    }
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes plain integers; it only changes this
    // process's dumpable flag.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

fn administer(state: &Path, cost: HashCost, action: &Action) -> ExitCode {
    match run_admin(state, cost, action) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("httpqq-server: {err}");
            ExitCode::from(match err {
                AdminError::Database { .. } => 1,
                _ => 2,
            })
        }
    }
}

fn run_admin(state: &Path, cost: HashCost, action: &Action) -> Result<(), AdminError> {
    // Only the commands that add accounts may make a new database.
    let mut db = match action {
        Action::Add { .. } | Action::Import { .. } | Action::ImportState { .. } => {
            Database::open_or_create(state, cost)?
        }
        _ => Database::open(state, cost)?,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match action {
        Action::Add {
            uin,
            nickname,
            face,
            policy,
            friends,
        } => {
            let mut account = Account::new(uin.0, &read_password()?, nickname);
            account.face = *face;
            account.add_policy = match policy {
                Policy::Allow => AddPolicy::Allow,
                Policy::Verify => AddPolicy::Verify,
                Policy::Refuse => AddPolicy::Refuse,
            };
            account.friends = friends.iter().map(|f| f.0).collect();
            db.add(&account)?;
            let _ = writeln!(out, "added {}", uin.0);
        }
        Action::Passwd { uin } => {
            db.set_password(uin.0, &read_password()?)?;
            let _ = writeln!(out, "changed the password of {}", uin.0);
        }
        Action::Remove { uin } => {
            db.remove(uin.0)?;
            let _ = writeln!(out, "removed {}", uin.0);
        }
        Action::List => {
            for (uin, nickname) in db.list()? {
                let _ = writeln!(out, "{uin}\t{}", printable(&nickname));
            }
        }
        Action::Show { uin } => {
            let info = db.show(uin.0)?;
            let friends: Vec<String> = info.friends.iter().map(u64::to_string).collect();
            let _ = writeln!(out, "uin       {}", info.uin);
            let _ = writeln!(out, "nickname  {}", printable(&info.nickname));
            let _ = writeln!(out, "face      {}", info.face);
            let _ = writeln!(out, "policy    {:?}", info.add_policy);
            let _ = writeln!(out, "friends   {}", friends.join(", "));
            let _ = writeln!(out, "queued    {}", info.queued);
        }
        Action::Import { file } => {
            let count = db.import(file)?;
            let _ = writeln!(out, "imported {count} accounts");
        }
        Action::ImportState { file } => {
            let (accounts, messages) = db.import_state(file)?;
            let _ = writeln!(
                out,
                "imported {accounts} accounts and {messages} undelivered messages"
            );
        }
    }
    Ok(())
}

/// Text for the terminal: control characters (which an older database
/// may hold) written as escapes, so that they cannot act on it.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The password: `HTTPQQ_PASSWORD`, or a line of standard input; never
/// empty. Wiped from memory when dropped.
fn read_password() -> Result<Zeroizing<String>, AdminError> {
    let refused =
        |why: &str| AdminError::Accounts(httpqq_server::AccountsError::Invalid(why.to_owned()));
    if let Some(password) = std::env::var_os("HTTPQQ_PASSWORD") {
        let password = Zeroizing::new(
            password
                .into_string()
                .map_err(|_| refused("HTTPQQ_PASSWORD is not UTF-8"))?,
        );
        if password.is_empty() {
            return Err(refused(
                "HTTPQQ_PASSWORD is set but empty: a password cannot be empty",
            ));
        }
        return Ok(password);
    }
    eprint!("password: ");
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| refused(&format!("cannot read the password: {e}")))?;
    let password = Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_owned());
    if password.is_empty() {
        return Err(refused(
            "no password given (set HTTPQQ_PASSWORD, or type it on standard input)",
        ));
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_reach_the_terminal_as_escapes() {
        assert_eq!(
            super::printable("Ann\u{1b}[2J\t好"),
            "Ann\\u{1b}[2J\\u{9}好"
        );
    }
}
