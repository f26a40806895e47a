//! The commands: a request body in, a reply (or the NULL) out. No sockets
//! here; the connection layer moves the bytes.
//!
//! Each request is one transaction ([`World::finish`]): if its writes
//! cannot be committed, it is answered with the NULL and changes nothing.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use httpqq::codec::{
    decode_request, encode_reply, Answer as Body, Asked, Command, Credential, Escapes, Plus,
    Received, ReplyHead, RequestError, ResultCode, QUEUE_FULL,
};
use httpqq::{
    AddFriendOutcome, BloodType, Constellation, Face, Gender, InfoLevel, LoginOutcome, Message,
    MessageKind, OnlineFriend, PasswordHash, Status, Uin, UserInfo, Zodiac,
};

use crate::accounts::AddPolicy;
use crate::config::Config;
use crate::controls::Controls;
use crate::lockout::Gate;
use crate::passwords::{self, Check};
use crate::store::{AccountRow, Queued, StoreError};
use crate::world::{allow, Caps, Queuing, World};

/// What to send back, written, with its result code (carried, never read
/// back from the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Written {
    /// One reply body.
    Reply {
        /// The body.
        body: String,
        /// Its `RES`.
        res: u32,
    },
    /// Query_Stat with `TN=0`: two whole HTTP replies, then close.
    Double {
        /// The count.
        first: String,
        /// The empty list.
        second: String,
    },
    /// The NULL: close the connection without a byte.
    Null,
}

/// A handled request.
#[derive(Debug)]
pub(crate) struct Handled {
    pub answer: Written,
    /// How long to hold the reply back (the original's penalty).
    pub delay: Duration,
    /// For the log: the command, UIN and result.
    pub summary: String,
    /// The command and UIN, when the envelope could be read.
    pub request: Option<(Command, u64)>,
}

impl Handled {
    pub(crate) fn null(why: &str, request: Option<(Command, u64)>) -> Handled {
        Handled {
            answer: Written::Null,
            delay: Duration::ZERO,
            summary: format!("NULL ({why})"),
            request,
        }
    }

    /// The reply's `RES`; `None` for the NULL.
    pub(crate) fn result_code(&self) -> Option<u32> {
        match &self.answer {
            Written::Reply { res, .. } => Some(*res),
            Written::Double { .. } => Some(0),
            Written::Null => None,
        }
    }
}

/// Why a request gets the NULL.
#[derive(Debug)]
enum Refusal {
    /// The request breaks a rule of the protocol.
    Malformed(&'static str),
    /// The storage failed: nothing is acknowledged.
    Store(StoreError),
}

impl From<&'static str> for Refusal {
    fn from(why: &'static str) -> Self {
        Refusal::Malformed(why)
    }
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Self {
        Refusal::Store(err)
    }
}

/// The wrong-password reason the original gave ("wrong password").
const WRONG_PASSWORD: &str = "密码错误";

/// A request read by core's codec, with how its reply escapes text.
pub(crate) struct Parsed<'a> {
    received: Received<'a>,
    pub(crate) command: Command,
    pub(crate) uin: u64,
    /// Which bytes of the reply's text values are percent-encoded.
    escapes: Escapes,
}

impl Parsed<'_> {
    /// The reply saying `body`, written by core's codec.
    fn reply(&self, body: &Body<'_>) -> Written {
        Written::Reply {
            body: self.write(body),
            res: body.result_code(),
        }
    }

    /// `body` written by core's codec, echoing `VER` and `SEQ` as they came.
    fn write(&self, body: &Body<'_>) -> String {
        let head = ReplyHead {
            version: self.received.version,
            command: self.command,
            seq: self.received.seq,
            uin: self.uin,
            escapes: self.escapes,
        };
        encode_reply(&head, body)
    }

    /// A reply with a result code alone (`RES=3`, `5`, `20`).
    fn refuse(&self, code: ResultCode) -> Written {
        self.reply(&Body::Refused { code, reason: None })
    }

    /// A Login's password (its `PS`), to check against the stored hash
    /// before the world's lock is taken; `None` for other commands.
    pub(crate) fn credential(&self) -> Option<&Credential> {
        match &self.received.asked {
            Asked::Login { password } => Some(password),
            _ => None,
        }
    }
}

/// Reads a request with core's codec (`form`: the body came as
/// `application/x-www-form-urlencoded`, where `+` is a space); the reply
/// will escape its text values with `escapes`.
pub(crate) fn parse(body: &[u8], form: bool, escapes: Escapes) -> Result<Parsed<'_>, RequestError> {
    let plus = if form { Plus::Space } else { Plus::Literal };
    let received = decode_request(body, plus)?;
    Ok(Parsed {
        command: received.command(),
        uin: received.uin,
        received,
        escapes,
    })
}

/// A Login's password, as far as it was checked when the request is
/// handled.
#[derive(Debug)]
pub(crate) enum PasswordCheck {
    /// Not a Login, or one refused before its password matters.
    NotNeeded,
    /// The account does not exist (as far as the check saw).
    NoAccount,
    /// Too many guesses, or too many checks queued: `RES=3` without a
    /// check (see [`crate::lockout`] and [`crate::hasher`]).
    Locked,
    /// Checked against `stored`; `upgrade` is a stronger hash to store
    /// when the stored one is cheaper than the server's cost.
    Checked {
        stored: String,
        matched: bool,
        upgrade: Option<String>,
    },
    /// The storage could not be read.
    Failed(StoreError),
}

/// A password to check against its stored hash, on the hashing pool.
pub(crate) struct PasswordJob {
    password: PasswordHash,
    stored: String,
    cost: passwords::HashCost,
}

impl PasswordJob {
    /// Checks the password (milliseconds at the strong cost).
    pub(crate) fn run(self) -> PasswordCheck {
        let (matched, upgrade) = match passwords::check(&self.stored, &self.password, self.cost) {
            Check::Match { upgrade } => (
                true,
                upgrade.then(|| passwords::hash(&self.password, self.cost)),
            ),
            Check::Mismatch | Check::Unreadable => (false, None),
        };
        PasswordCheck::Checked {
            stored: self.stored,
            matched,
            upgrade,
        }
    }
}

/// What a Login's password comes to before the request is handled.
pub(crate) enum Gated {
    /// Decided without a hash: refused for now, no such account, or the
    /// fast path of the last good login.
    Decided(PasswordCheck),
    /// To check on the hashing pool first.
    Hash(PasswordJob),
}

/// Decides, under the world's lock and before any hash, what a Login from
/// `ip` may do (see [`crate::lockout`]); `None` when the request is no
/// password attempt (not a Login, a wrong `LC`, no `PS`, a held UIN).
pub(crate) fn gate_login(
    world: &mut World,
    config: &Config,
    parsed: &Parsed<'_>,
    ip: IpAddr,
    now: Instant,
) -> Option<Gated> {
    let attempt = parsed.credential()?;
    if world.is_held(parsed.uin, now) {
        return None;
    }
    // No account can have a UIN outside the range (the storage refuses
    // one): RES=5, as the original answered UIN=100, without a look.
    if Uin::checked(parsed.uin).is_none() {
        return Some(Gated::Decided(PasswordCheck::NoAccount));
    }
    let stored = match world.store.password(parsed.uin) {
        Ok(Some(stored)) => stored,
        Ok(None) => return Some(Gated::Decided(PasswordCheck::NoAccount)),
        Err(err) => return Some(Gated::Decided(PasswordCheck::Failed(err))),
    };
    let password = match attempt {
        Credential::Md5(password) => Some(password),
        Credential::NotAHash => None,
    };
    let limits = (config.login_limit, config.guess_limit);
    let gate = world
        .lockout
        .gate(parsed.uin, ip, password, &stored, limits, now);
    Some(match (gate, attempt) {
        (Gate::Locked, _) => Gated::Decided(PasswordCheck::Locked),
        (Gate::Known, _) => Gated::Decided(PasswordCheck::Checked {
            stored,
            matched: true,
            upgrade: None,
        }),
        (Gate::Check, Credential::NotAHash) => Gated::Decided(PasswordCheck::Checked {
            stored,
            matched: false,
            upgrade: None,
        }),
        (Gate::Check, Credential::Md5(password)) => Gated::Hash(PasswordJob {
            password: password.clone(),
            stored,
            cost: config.hash_cost,
        }),
    })
}

/// The reason a Login over plain HTTP gets under `--login-requires-tls`.
pub(crate) const TLS_REQUIRED: &str = "login requires TLS: connect to this server's TLS port";

/// A Login refused before anything is looked up: `RS=1` with `reason` (`RA`)
/// (the reply of a wrong password, which every period client shows).
pub(crate) fn refuse_login(parsed: &Parsed<'_>, reason: &str) -> Handled {
    let request = Some((parsed.command, parsed.uin));
    let mut outcome = Handled {
        answer: parsed.reply(&Body::LoginRefused { reason }),
        delay: Duration::ZERO,
        summary: String::new(),
        request,
    };
    outcome.summary = format!("Login uin={} RS=1 ({reason})", parsed.uin);
    outcome
}

/// Handles one request from `ip`, as one transaction.
pub(crate) fn handle(
    world: &mut World,
    config: &Config,
    controls: &Controls,
    ip: IpAddr,
    parsed: &Parsed<'_>,
    password: PasswordCheck,
    now: Instant,
) -> Handled {
    let request = Some((parsed.command, parsed.uin));
    let mut delay = Duration::ZERO;
    let result = world.transaction(|world| match parsed.command {
        // A throttle set by the test controls: RES=3 to everything but
        // Logout (which is always answered).
        command if command != Command::Logout && world.is_held(parsed.uin, now) => {
            delay = config.penalty_delay;
            Ok(parsed.refuse(ResultCode::Throttled))
        }
        Command::Login => login(world, config, parsed, ip, now, password, &mut delay),
        Command::Logout => logout(world, config, parsed, ip, now),
        _ => {
            if !controls.sessions_dropped() && authenticate(world, config, parsed.uin, ip, now) {
                command(world, config, parsed, now, &mut delay)
            } else {
                Ok(parsed.refuse(ResultCode::NotLoggedIn))
            }
        }
    });
    match result {
        Ok(answer) => {
            let mut outcome = Handled {
                answer,
                delay,
                summary: String::new(),
                request,
            };
            outcome.summary = format!(
                "{} uin={} RES={}",
                parsed.command.wire_name(),
                parsed.uin,
                outcome.result_code().map_or("?".into(), |c| c.to_string())
            );
            outcome
        }
        Err(Refusal::Malformed(why)) => Handled::null(why, request),
        Err(Refusal::Store(err)) => {
            log::error!(target: "httpqq::server", "storage failed, answering the NULL: {err}");
            Handled::null("storage failed", request)
        }
    }
}

fn caps(config: &Config) -> Caps {
    Caps {
        messages: config.max_queued_messages,
        bytes: config.max_queued_bytes,
    }
}

/// Whether `uin` is logged in from `ip`; refreshes the session if so.
fn authenticate(world: &mut World, config: &Config, uin: u64, ip: IpAddr, now: Instant) -> bool {
    let Some(live) = world.sessions.get_mut(&uin) else {
        return false;
    };
    if live.ip != ip {
        return false;
    }
    if now.duration_since(live.last_seen) > config.idle_timeout {
        // The sweeper would end it soon anyway; its friends are told then.
        return false;
    }
    live.last_seen = now;
    true
}

fn login(
    world: &mut World,
    config: &Config,
    p: &Parsed<'_>,
    ip: IpAddr,
    now: Instant,
    password: PasswordCheck,
    delay: &mut Duration,
) -> Result<Written, Refusal> {
    let (stored, matched, upgrade) = match password {
        PasswordCheck::Checked {
            stored,
            matched,
            upgrade,
        } => (stored, matched, upgrade),
        PasswordCheck::NoAccount => return Ok(p.refuse(ResultCode::InvalidUin)),
        PasswordCheck::Locked => {
            *delay = config.penalty_delay;
            return Ok(p.refuse(ResultCode::Throttled));
        }
        PasswordCheck::Failed(err) => return Err(err.into()),
        PasswordCheck::NotNeeded => return Err("the password was not checked".into()),
    };
    // The account may have been removed, or its password changed, since.
    match world.store.password(p.uin)? {
        None => return Ok(p.refuse(ResultCode::InvalidUin)),
        Some(now_stored) if now_stored != stored => {
            return Err("the password changed during the login".into())
        }
        Some(_) => {}
    }
    let Some(Credential::Md5(password)) = p.credential().filter(|_| matched) else {
        world.lockout.failed(p.uin, ip, now);
        return Ok(p.reply(&Body::LoginRefused {
            reason: WRONG_PASSWORD,
        }));
    };
    let stored = match upgrade {
        Some(stronger) => {
            world.store.set_password(p.uin, &stronger)?;
            stronger
        }
        None => stored,
    };
    world.lockout.succeeded(p.uin, ip, password, stored);
    // A login from anywhere replaces the old session; the user is online.
    world.set_presence(p.uin, Some(Status::Online), ip, now, caps(config))?;
    Ok(p.reply(&Body::Login(&LoginOutcome {
        heartbeat: config.heartbeat,
        idle_timeout: config.idle_timeout,
    })))
}

fn logout(
    world: &mut World,
    config: &Config,
    p: &Parsed<'_>,
    ip: IpAddr,
    now: Instant,
) -> Result<Written, Refusal> {
    if world.sessions.get(&p.uin).is_some_and(|live| live.ip == ip) {
        world.set_presence(p.uin, None, ip, now, caps(config))?;
        // The user polled and left: their last batch arrived.
        world.confirm(p.uin)?;
    }
    Ok(p.reply(&Body::Done))
}

fn command(
    world: &mut World,
    config: &Config,
    p: &Parsed<'_>,
    now: Instant,
    delay: &mut Duration,
) -> Result<Written, Refusal> {
    let me = p.uin;
    let reply = |body: &Body<'_>| Ok(p.reply(body));
    let refuse = |code: ResultCode| Ok(p.refuse(code));
    match &p.received.asked {
        &Asked::List { max: tn } => {
            let friends = world.store.friends(me)?;
            if tn == 0 {
                return reply(&Body::Count(count(friends.len())));
            }
            let shown: Vec<Uin> = friends.into_iter().take(cap(tn)).map(Uin::new).collect();
            reply(&Body::FriendList(&shown))
        }
        &Asked::QueryStat { max: tn } => {
            let mut online: Vec<OnlineFriend> = Vec::new();
            for friend in world.store.friends(me)? {
                let Some(status) = world.presence(friend).filter(|s| s.is_visible_online()) else {
                    continue;
                };
                if let Some(card) = world.store.card(friend)? {
                    online.push(OnlineFriend {
                        face: Face::new(card.face),
                        status,
                        uin: Uin::new(friend),
                        nickname: card.nickname,
                    });
                }
            }
            if tn == 0 {
                // The original's two replies: the count, then an empty list.
                let first = p.write(&Body::Count(count(online.len())));
                let second = p.write(&Body::OnlineFriends(&[]));
                return Ok(Written::Double { first, second });
            }
            let shown = &online[..online.len().min(cap(tn))];
            reply(&Body::OnlineFriends(shown))
        }
        &Asked::GetInfo { target, level } => {
            let level = u32::try_from(level).map_err(|_| "LV is out of range")?;
            let Some(account) = world.store.account(target)? else {
                return refuse(ResultCode::InvalidUin);
            };
            reply(&Body::UserInfo(&profile(&account, level)))
        }
        &Asked::AddToList { target } => {
            let Some(card) = world.store.card(target)? else {
                return refuse(ResultCode::InvalidUin);
            };
            let outcome = match card.add_policy {
                AddPolicy::Allow => {
                    world.store.add_friend(me, target)?;
                    AddFriendOutcome::Added
                }
                AddPolicy::Verify => AddFriendOutcome::NeedsVerification,
                AddPolicy::Refuse => AddFriendOutcome::Refused { code: 2 },
            };
            reply(&Body::AddFriend {
                outcome,
                target: Uin::new(target),
            })
        }
        Asked::AckAddToList {
            target,
            action,
            reason,
        } => {
            let verify = Verify {
                peer: *target,
                action: *action,
                reason,
            };
            verification(world, config, p, verify, now, delay)
        }
        &Asked::DelFromList { target } => {
            if world.store.remove_friend(me, target)? {
                reply(&Body::Done)
            } else {
                *delay = config.delete_penalty_delay;
                refuse(ResultCode::Throttled)
            }
        }
        &Asked::ChangeStat { status: code } => {
            let status = u32::try_from(code)
                .map(Status::from_code)
                .ok()
                .filter(|s| s.is_settable())
                .ok_or("invalid status")?;
            if !allow(
                &mut world.limits(me).status_changes,
                config.status_limit,
                now,
            ) {
                *delay = config.penalty_delay;
                return refuse(ResultCode::Throttled);
            }
            let ip = world
                .sessions
                .get(&me)
                .map(|live| live.ip)
                .ok_or("no session")?;
            world.set_presence(me, Some(status), ip, now, caps(config))?;
            reply(&Body::Done)
        }
        Asked::GetMsgEx => {
            let batch: Vec<Message> = world
                .take_batch(me, config.max_messages_per_reply)?
                .into_iter()
                .map(|q| Message::from_wire(q.kind, Uin::new(q.from), q.text))
                .collect();
            reply(&Body::Messages(&batch))
        }
        Asked::CltMsg { target, text } => {
            let (target, text) = (*target, text.clone().into_owned());
            if world.store.card(target)?.is_none() {
                return refuse(ResultCode::InvalidUin);
            }
            let message = Queued {
                kind: MessageKind::Text.code(),
                from: me,
                text,
            };
            match deliver(world, config, p, target, message, now, delay)? {
                None => reply(&Body::Done),
                Some(refusal) => Ok(refusal),
            }
        }
        Asked::Login { .. } | Asked::Logout => Err("unreachable command".into()),
        _ => Err("a command this server does not know".into()),
    }
}

/// Queues a message from the requester under the sender's rate limit and
/// the recipient's caps: `None` when it was queued, else the refusal to
/// answer (which says which refused it).
fn deliver(
    world: &mut World,
    config: &Config,
    p: &Parsed<'_>,
    to: u64,
    message: Queued,
    now: Instant,
    delay: &mut Duration,
) -> Result<Option<Written>, Refusal> {
    if !allow(&mut world.limits(p.uin).sent, config.send_limit, now) {
        *delay = config.penalty_delay;
        return Ok(Some(p.refuse(ResultCode::Throttled)));
    }
    match world.enqueue(to, message, caps(config))? {
        Queuing::Queued => Ok(None),
        Queuing::Full => {
            // Its own answer: RES=3, which every client knows as "not now",
            // with the reason (DECISIONS.md 74).
            *delay = config.penalty_delay;
            Ok(Some(p.reply(&Body::Refused {
                code: ResultCode::Throttled,
                reason: Some(QUEUE_FULL),
            })))
        }
    }
}

/// An Ack_AddToList, read.
struct Verify<'a> {
    peer: u64,
    /// `CD`: approve (0), reject (1) or request (2).
    action: u64,
    reason: &'a str,
}

/// Ack_AddToList: approve (0), reject (1) or request (2).
fn verification(
    world: &mut World,
    config: &Config,
    p: &Parsed<'_>,
    verify: Verify<'_>,
    now: Instant,
    delay: &mut Duration,
) -> Result<Written, Refusal> {
    let me = p.uin;
    let Verify {
        peer,
        action: code,
        reason,
    } = verify;
    let reason = reason.to_owned();
    let refused = |delay: &mut Duration| {
        *delay = config.penalty_delay;
        Ok(p.refuse(ResultCode::Throttled))
    };
    if world.store.card(peer)?.is_none() {
        return Ok(p.refuse(ResultCode::InvalidUin));
    }
    // Every answer queues a message for the peer: under the same limits as
    // CLTMSG, checked before anything else changes.
    let message = match code {
        0 | 1 if !world.store.has_pending(me, peer)? => return refused(delay),
        0 => Queued {
            kind: MessageKind::Approved.code(),
            from: me,
            text: String::new(),
        },
        1 => Queued {
            kind: MessageKind::Rejected.code(),
            from: me,
            text: reason,
        },
        2 if config.quirks.verification_twice && world.ask_once(me, peer) => return refused(delay),
        2 => Queued {
            kind: MessageKind::VerificationRequest.code(),
            from: me,
            text: reason,
        },
        _ => return refused(delay),
    };
    if let Some(refusal) = deliver(world, config, p, peer, message, now, delay)? {
        return Ok(refusal);
    }
    match code {
        0 => {
            world.store.take_pending(me, peer)?;
            world.store.add_friend(peer, me)?;
        }
        1 => {
            world.store.take_pending(me, peer)?;
        }
        _ => world.store.add_pending(peer, me)?,
    }
    Ok(p.reply(&Body::Done))
}

/// `TN` as a count of entries.
fn cap(tn: u64) -> usize {
    usize::try_from(tn).unwrap_or(usize::MAX)
}

/// `n` as a count (`FN`).
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An account's profile as GetInfo shows it at `level`: brief (UIN and
/// nickname), normal (the public fields) or full (everything). Core's
/// encoder writes the fields present in the original's order.
fn profile(account: &AccountRow, level: u32) -> UserInfo {
    let pr = &account.profile;
    let shown = InfoLevel::from_code(level);
    let normal = shown != InfoLevel::Brief;
    let full = shown == InfoLevel::Full;
    let text = |on: bool, value: &str| on.then(|| value.to_owned());
    let number = |on: bool, value: u32| on.then_some(value);
    let fields = if full {
        [
            ("CV", &pr.cv),
            ("ID", &pr.id),
            ("MT", &pr.mt),
            ("MV", &pr.mv),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.clone()))
        .collect()
    } else {
        Vec::new()
    };
    UserInfo {
        level,
        uin: Uin::new(account.uin),
        nickname: account.nickname.clone(),
        address: text(normal, &pr.address),
        age: number(normal, pr.age),
        blood_type: number(full, pr.blood_type).map(BloodType::from_code),
        constellation: number(full, pr.constellation).map(Constellation::from_code),
        city: text(full, &pr.city),
        country: text(full, &pr.country),
        email: text(normal, &pr.email),
        face: number(normal, account.face).map(Face::new),
        homepage: text(normal, &pr.homepage),
        occupation: text(normal, &pr.occupation),
        mobile: text(full, &pr.mobile),
        postal_code: text(normal, &pr.postal_code),
        phone: text(normal, &pr.phone),
        introduction: text(normal, &pr.introduction),
        province: text(normal, &pr.province),
        real_name: text(normal, &pr.real_name),
        school: text(normal, &pr.school),
        zodiac: number(full, pr.zodiac).map(Zodiac::from_code),
        gender: number(normal, pr.gender).map(Gender::from_code),
        fields,
    }
}
