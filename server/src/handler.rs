//! The commands: a request body in, a reply (or the NULL) out. No sockets
//! here; the connection layer moves the bytes.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use httpqq::codec::{
    decode_form_value, decode_value_strict, encode_value, parse_decimal, trim_spaces as trim,
    Command, Fields, LOGIN_CODE,
};
use httpqq::{InfoLevel, Status};

use crate::accounts::AddPolicy;
use crate::config::Config;
use crate::world::{allow, recent, Queued, World};

/// What to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// One reply body.
    Reply(String),
    /// Query_Stat with `TN=0`: two whole HTTP replies, then close.
    Double(String, String),
    /// The NULL: close the connection without a byte.
    Null,
}

/// A handled request.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub answer: Answer,
    /// How long to hold the reply back (the original's penalty).
    pub delay: Duration,
    /// For the log: the command, UIN and result.
    pub summary: String,
    /// The command and UIN, when the envelope could be read.
    pub request: Option<(Command, u64)>,
}

impl Outcome {
    fn null(why: &str, request: Option<(Command, u64)>) -> Outcome {
        Outcome {
            answer: Answer::Null,
            delay: Duration::ZERO,
            summary: format!("NULL ({why})"),
            request,
        }
    }

    /// The reply's `RES`; `None` for the NULL.
    pub(crate) fn result_code(&self) -> Option<u32> {
        match &self.answer {
            Answer::Reply(body) | Answer::Double(body, _) => body
                .split('&')
                .find_map(|p| p.strip_prefix("RES="))
                .and_then(|code| code.parse().ok()),
            Answer::Null => None,
        }
    }
}

/// The wrong-password reason the original gave ("wrong password").
const WRONG_PASSWORD: &str = "密码错误";

/// A request whose envelope is valid.
struct Parsed<'a> {
    fields: Fields<'a>,
    command: Command,
    uin: u64,
    /// `VER=…&CMD=…&SEQ=…&UIN=…`, the echo every reply starts with.
    head: String,
    form: bool,
}

impl Parsed<'_> {
    /// A numeric parameter; `Err` (NULL) when present but not a number.
    fn number(&self, key: &str) -> Result<Option<u64>, &'static str> {
        match self.fields.raw(key) {
            None => Ok(None),
            Some(raw) => parse_decimal(trim(raw))
                .map(Some)
                .ok_or("a numeric field is not a number"),
        }
    }

    fn required(&self, key: &str) -> Result<u64, &'static str> {
        self.number(key)?.ok_or("a required field is missing")
    }

    /// A text parameter, decoded; `Err` (NULL) for invalid UTF-8.
    fn text(&self, key: &str) -> Result<Option<Cow<'_, str>>, &'static str> {
        let Some(raw) = self.fields.raw(key) else {
            return Ok(None);
        };
        let decoded = if self.form {
            decode_form_value(raw).map(Cow::Owned)
        } else {
            decode_value_strict(raw)
        };
        decoded.map(Some).ok_or("text is not UTF-8")
    }

    fn reply(&self, tail: &str) -> String {
        let mut body = String::with_capacity(self.head.len() + tail.len());
        body.push_str(&self.head);
        body.push_str(tail);
        body
    }
}

/// Reads the envelope: `VER`, `CMD`, `SEQ`, `UIN`, and the numeric fields
/// every command must get as numbers.
fn parse(body: &[u8], form: bool) -> Result<Parsed<'_>, &'static str> {
    let fields = Fields::parse(body).map_err(|_| "malformed body")?;
    let ver = fields.raw("VER").map(trim).ok_or("no VER")?;
    let ver = match ver {
        b"1.0" | b"1.1" | b"1.2" => std::str::from_utf8(ver).unwrap_or("1.1"),
        _ => return Err("unknown VER"),
    };
    let cmd = fields.raw("CMD").map(trim).ok_or("no CMD")?;
    let command = std::str::from_utf8(cmd)
        .ok()
        .and_then(Command::from_wire)
        .ok_or("unknown CMD")?;
    let seq = fields.raw("SEQ").map(trim).ok_or("no SEQ")?;
    let seq = parse_decimal(seq).ok_or("SEQ is not a number")?;
    let uin = fields.raw("UIN").map(trim).ok_or("no UIN")?;
    let uin = parse_decimal(uin).ok_or("UIN is not a number")?;
    let parsed = Parsed {
        head: format!("VER={ver}&CMD={}&SEQ={seq}&UIN={uin}", command.reply_name()),
        fields,
        command,
        uin,
        form,
    };
    for key in ["UN", "TN", "LV", "CD", "ST"] {
        parsed.number(key)?;
    }
    Ok(parsed)
}

/// Handles one request body from `ip`.
pub(crate) fn handle(
    world: &mut World,
    config: &Config,
    ip: IpAddr,
    body: &[u8],
    form: bool,
    now: Instant,
) -> Outcome {
    let parsed = match parse(body, form) {
        Ok(parsed) => parsed,
        Err(why) => return Outcome::null(why, None),
    };
    let request = Some((parsed.command, parsed.uin));
    let mut delay = Duration::ZERO;
    let result = match parsed.command {
        // A throttle set by the test controls: RES=3 to everything but
        // Logout (which is always answered).
        command if command != Command::Logout && world.is_held(parsed.uin, now) => {
            delay = config.penalty_delay;
            Ok(Answer::Reply(parsed.reply("&RES=3")))
        }
        Command::Login => login(world, config, &parsed, ip, now, &mut delay),
        Command::Logout => {
            if world
                .sessions
                .get(&parsed.uin)
                .is_some_and(|live| live.ip == ip)
            {
                world.set_presence(parsed.uin, None, ip, now);
                // The user polled and left: their last batch arrived.
                if let Some(user) = world.users.get_mut(&parsed.uin) {
                    if !user.in_flight.is_empty() {
                        user.in_flight.clear();
                        world.changed();
                    }
                }
            }
            Ok(Answer::Reply(parsed.reply("&RES=0")))
        }
        _ => {
            if authenticate(world, config, parsed.uin, ip, now) {
                command(world, config, &parsed, now, &mut delay)
            } else {
                Ok(Answer::Reply(parsed.reply("&RES=20")))
            }
        }
    };
    match result {
        Ok(answer) => {
            let mut outcome = Outcome {
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
        Err(why) => Outcome::null(why, request),
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
        world.set_presence(uin, None, ip, now);
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
    delay: &mut Duration,
) -> Result<Answer, &'static str> {
    if p.fields.raw("LC") != Some(LOGIN_CODE.as_bytes()) {
        return Err("wrong LC");
    }
    let ps = p.fields.raw("PS").map(trim).unwrap_or_default();
    if ps.is_empty() {
        return Err("empty PS");
    }
    let Some(user) = world.users.get_mut(&p.uin) else {
        return Ok(Answer::Reply(p.reply("&RES=5")));
    };
    let limit = config.login_limit;
    if recent(&mut user.failed_logins, limit.window, now) >= limit.count as usize {
        *delay = config.penalty_delay;
        return Ok(Answer::Reply(p.reply("&RES=3")));
    }
    let matches = std::str::from_utf8(ps).is_ok_and(|hex| user.password.matches_hex(hex));
    if !matches {
        user.failed_logins.push_back(now);
        let mut tail = String::from("&RES=0&RS=1&RA=");
        encode_value(WRONG_PASSWORD, &mut tail);
        return Ok(Answer::Reply(p.reply(&tail)));
    }
    user.failed_logins.clear();
    // A login from anywhere replaces the old session; the user is online.
    world.set_presence(p.uin, Some(Status::Online), ip, now);
    Ok(Answer::Reply(p.reply(&format!(
        "&RES=0&RS=0&HI={}&LI={}",
        config.heartbeat.as_secs(),
        config.idle_timeout.as_secs()
    ))))
}

fn command(
    world: &mut World,
    config: &Config,
    p: &Parsed<'_>,
    now: Instant,
    delay: &mut Duration,
) -> Result<Answer, &'static str> {
    let me = p.uin;
    let reply = |tail: &str| Ok(Answer::Reply(p.reply(tail)));
    match p.command {
        Command::List => {
            let tn = p.number("TN")?.unwrap_or(0);
            let friends = &world.users[&me].account.friends;
            if tn == 0 {
                return reply(&format!("&RES=0&FN={}", friends.len()));
            }
            let shown: Vec<u64> = friends.iter().copied().take(cap(tn)).collect();
            let mut tail = format!("&RES=0&FN=1&SN={}&UN=", shown.len());
            for uin in shown {
                let _ = write!(tail, "{uin},");
            }
            reply(&tail)
        }
        Command::QueryStat => {
            let tn = p.number("TN")?.unwrap_or(0);
            let online: Vec<(u32, Status, u64, &str)> = world.users[&me]
                .account
                .friends
                .iter()
                .filter_map(|&f| {
                    let status = world.presence(f)?;
                    let account = &world.users.get(&f)?.account;
                    status.is_visible_online().then_some((
                        account.face,
                        status,
                        f,
                        account.nickname.as_str(),
                    ))
                })
                .collect();
            if tn == 0 {
                let first = p.reply(&format!("&RES=0&FN={}", online.len()));
                let second = p.reply("&RES=0&FC=&FN=1&SN=0&ST=&UN=&NK=");
                return Ok(Answer::Double(first, second));
            }
            let shown = &online[..online.len().min(cap(tn))];
            let (mut fc, mut st, mut un, mut nk) =
                (String::new(), String::new(), String::new(), String::new());
            for &(face, status, uin, nick) in shown {
                let _ = write!(fc, "{face},");
                let _ = write!(st, "{},", status.code());
                let _ = write!(un, "{uin},");
                encode_value(nick, &mut nk);
                nk.push(',');
            }
            reply(&format!(
                "&RES=0&FC={fc}&FN=1&SN={}&ST={st}&UN={un}&NK={nk}",
                shown.len()
            ))
        }
        Command::GetInfo => {
            let level = p.required("LV")?;
            let target = p.required("UN")?;
            let Some(user) = world.users.get(&target) else {
                return reply("&RES=5");
            };
            reply(&profile_fields(&user.account, level))
        }
        Command::AddToList => {
            let target = p.required("UN")?;
            let Some(user) = world.users.get(&target) else {
                return reply("&RES=5");
            };
            let code = match user.account.add_policy {
                AddPolicy::Allow => {
                    world.add_friend(me, target);
                    0
                }
                AddPolicy::Verify => 1,
                AddPolicy::Refuse => 2,
            };
            reply(&format!("&RES=0&CD={code}&UN={target}"))
        }
        Command::AckAddToList => verification(world, config, p, delay),
        Command::DelFromList => {
            let target = p.required("UN")?;
            if world.remove_friend(me, target) {
                reply("&RES=0&")
            } else {
                *delay = config.delete_penalty_delay;
                reply("&RES=3")
            }
        }
        Command::ChangeStat => {
            let code = p.required("ST")?;
            let status = u32::try_from(code)
                .map(Status::from_code)
                .ok()
                .filter(|s| s.is_settable())
                .ok_or("invalid status")?;
            let user = world.users.get_mut(&me).ok_or("no such user")?;
            if !allow(&mut user.status_changes, config.status_limit, now) {
                *delay = config.penalty_delay;
                return reply("&RES=3");
            }
            let ip = world.sessions[&me].ip;
            world.set_presence(me, Some(status), ip, now);
            reply("&RES=0&")
        }
        Command::GetMsgEx => {
            let user = world.users.get_mut(&me).ok_or("no such user")?;
            // This poll shows the last reply arrived: its messages are done.
            let confirmed = !user.in_flight.is_empty();
            user.in_flight.clear();
            let count = user.queue.len().min(config.max_messages_per_reply);
            let (mut mt, mut un, mut mg) = (String::new(), String::new(), String::new());
            user.in_flight.extend(user.queue.drain(..count));
            for message in &user.in_flight {
                let _ = write!(mt, "{},", message.kind);
                let _ = write!(un, "{},", message.from);
                encode_value(&message.text, &mut mg);
                mg.push(',');
            }
            if count > 0 || confirmed {
                world.changed();
            }
            reply(&format!("&RES=0&MN={count}&MT={mt}&UN={un}&MG={mg}"))
        }
        Command::CltMsg => {
            let target = p.required("UN")?;
            let text = p.text("MG")?.ok_or("no MG")?.into_owned();
            if !world.users.contains_key(&target) {
                return reply("&RES=5");
            }
            let user = world.users.get_mut(&me).ok_or("no such user")?;
            if !allow(&mut user.sent, config.send_limit, now) {
                *delay = config.penalty_delay;
                return reply("&RES=3");
            }
            let message = Queued {
                kind: 9,
                from: me,
                text,
            };
            if world.enqueue(target, message, config.max_queued_messages) {
                reply("&RES=0&")
            } else {
                *delay = config.penalty_delay;
                reply("&RES=3")
            }
        }
        Command::Login | Command::Logout => Err("unreachable command"),
    }
}

/// Ack_AddToList: approve (0), reject (1) or request (2).
fn verification(
    world: &mut World,
    config: &Config,
    p: &Parsed<'_>,
    delay: &mut Duration,
) -> Result<Answer, &'static str> {
    let me = p.uin;
    let peer = p.required("UN")?;
    let code = p.required("CD")?;
    let reason = p.text("RS")?.unwrap_or_default().into_owned();
    let refused = |delay: &mut Duration| {
        *delay = config.penalty_delay;
        Ok(Answer::Reply(p.reply("&RES=3")))
    };
    if !world.users.contains_key(&peer) {
        return Ok(Answer::Reply(p.reply("&RES=5")));
    }
    let cap = config.max_queued_messages;
    match code {
        0 | 1 => {
            let user = world.users.get_mut(&me).ok_or("no such user")?;
            if !user.pending.remove(&peer) {
                return refused(delay);
            }
            world.changed();
            let message = if code == 0 {
                world.add_friend(peer, me);
                Queued {
                    kind: 3,
                    from: me,
                    text: String::new(),
                }
            } else {
                Queued {
                    kind: 4,
                    from: me,
                    text: reason,
                }
            };
            world.enqueue(peer, message, cap);
        }
        2 => {
            if config.quirks.verification_twice {
                let user = world.users.get_mut(&me).ok_or("no such user")?;
                if user.asked_once.insert(peer) {
                    return refused(delay);
                }
                user.asked_once.remove(&peer);
            }
            let message = Queued {
                kind: 2,
                from: me,
                text: reason,
            };
            if !world.enqueue(peer, message, cap) {
                return refused(delay);
            }
            if let Some(target) = world.users.get_mut(&peer) {
                target.pending.insert(me);
            }
        }
        _ => return refused(delay),
    }
    Ok(Answer::Reply(p.reply("&RES=0")))
}

/// `TN` as a count of entries.
fn cap(tn: u64) -> usize {
    usize::try_from(tn).unwrap_or(usize::MAX)
}

/// The GetInfo fields after the echo, in the original's order
/// (alphabetical, `NK` last).
fn profile_fields(account: &crate::accounts::Account, level: u64) -> String {
    let pr = &account.profile;
    let mut out = String::from("&RES=0");
    let text = |out: &mut String, key: &str, value: &str| {
        let _ = write!(out, "&{key}=");
        encode_value(value, out);
    };
    match InfoLevel::from_code(u32::try_from(level).unwrap_or(u32::MAX)) {
        InfoLevel::Brief => {}
        InfoLevel::Normal => {
            text(&mut out, "AD", &pr.address);
            let _ = write!(out, "&AG={}", pr.age);
            text(&mut out, "EM", &pr.email);
            let _ = write!(out, "&FC={}", account.face);
            text(&mut out, "HP", &pr.homepage);
            text(&mut out, "JB", &pr.occupation);
        }
        InfoLevel::Full => {
            text(&mut out, "AD", &pr.address);
            let _ = write!(
                out,
                "&AG={}&BT={}&CO={}",
                pr.age, pr.blood_type, pr.constellation
            );
            text(&mut out, "CT", &pr.city);
            text(&mut out, "CV", &pr.cv);
            text(&mut out, "CY", &pr.country);
            text(&mut out, "EM", &pr.email);
            let _ = write!(out, "&FC={}", account.face);
            text(&mut out, "HP", &pr.homepage);
            text(&mut out, "ID", &pr.id);
            text(&mut out, "JB", &pr.occupation);
        }
    }
    let _ = write!(out, "&LV={level}");
    let full = InfoLevel::from_code(u32::try_from(level).unwrap_or(u32::MAX));
    if full == InfoLevel::Full {
        text(&mut out, "MO", &pr.mobile);
        text(&mut out, "MT", &pr.mt);
        text(&mut out, "MV", &pr.mv);
    }
    if full != InfoLevel::Brief {
        text(&mut out, "PC", &pr.postal_code);
        text(&mut out, "PH", &pr.phone);
        text(&mut out, "PR", &pr.introduction);
        text(&mut out, "PV", &pr.province);
        text(&mut out, "RN", &pr.real_name);
        text(&mut out, "SC", &pr.school);
        if full == InfoLevel::Full {
            let _ = write!(out, "&SH={}", pr.zodiac);
        }
        let _ = write!(out, "&SX={}", pr.gender);
    }
    let _ = write!(out, "&UN={}", account.uin);
    text(&mut out, "NK", &account.nickname);
    out
}
