//! Incoming messages (GetMsgEx).

use super::{Status, Uin};

/// The message types of GetMsgEx (`MT`).
///
/// ```
/// use httpqq::MessageKind;
/// assert_eq!(MessageKind::from_code(9), MessageKind::Text);
/// assert_eq!(MessageKind::from_code(77), MessageKind::Other(77));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// 9: a text message.
    Text,
    /// 99: a friend's status changed.
    StatusChange,
    /// 2: someone asks to add you.
    VerificationRequest,
    /// 3: your request to add someone was approved.
    Approved,
    /// 4: your request to add someone was rejected.
    Rejected,
    /// Another type, kept as received.
    Other(u32),
}

impl MessageKind {
    /// The kind for an `MT` code.
    pub const fn from_code(code: u32) -> Self {
        match code {
            9 => MessageKind::Text,
            99 => MessageKind::StatusChange,
            2 => MessageKind::VerificationRequest,
            3 => MessageKind::Approved,
            4 => MessageKind::Rejected,
            other => MessageKind::Other(other),
        }
    }

    /// The `MT` code.
    pub const fn code(self) -> u32 {
        match self {
            MessageKind::Text => 9,
            MessageKind::StatusChange => 99,
            MessageKind::VerificationRequest => 2,
            MessageKind::Approved => 3,
            MessageKind::Rejected => 4,
            MessageKind::Other(code) => code,
        }
    }

    /// A lower-case English name.
    pub const fn name(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::StatusChange => "status change",
            MessageKind::VerificationRequest => "verification request",
            MessageKind::Approved => "approved",
            MessageKind::Rejected => "rejected",
            MessageKind::Other(_) => "other",
        }
    }
}

/// One incoming message.
///
/// ```
/// use httpqq::{Message, Uin};
///
/// let m = Message::from_wire(9, Uin::new(10002), "hi".into());
/// assert_eq!(m, Message::Text { from: Uin::new(10002), text: "hi".into() });
/// assert_eq!(m.sender(), Uin::new(10002));
/// assert_eq!(m.content(), "hi");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// `MT=9`: a text message.
    Text {
        /// The sender.
        from: Uin,
        /// The text, exactly as sent.
        text: String,
    },
    /// `MT=99`: a friend's status changed (invisible is announced as
    /// offline).
    StatusChange {
        /// The friend.
        from: Uin,
        /// Their new status.
        status: Status,
    },
    /// `MT=2`: someone asks to add you; answer with
    /// [`Verification::Approve`](super::Verification::Approve) or
    /// [`Verification::Reject`](super::Verification::Reject).
    VerificationRequest {
        /// Who asks.
        from: Uin,
        /// Their reason.
        reason: String,
    },
    /// `MT=3`: your request to add someone was approved; they are now in your
    /// friend list.
    Approved {
        /// Who approved.
        from: Uin,
    },
    /// `MT=4`: your request to add someone was rejected.
    Rejected {
        /// Who rejected.
        from: Uin,
        /// Their reason.
        reason: String,
    },
    /// A type this library does not know, or a status change whose content is
    /// not a number: kept raw so that nothing is lost.
    Other {
        /// The `MT` code.
        kind: u32,
        /// The sender.
        from: Uin,
        /// The content (`MG`), decoded.
        content: String,
    },
}

impl Message {
    /// Builds the typed message for one `MT`/`UN`/`MG` triple.
    ///
    /// A status change's content is trimmed of spaces before it is read as a
    /// number (the notes print `MG= 20`); one that is not a number is kept as
    /// [`Message::Other`].
    pub fn from_wire(kind: u32, from: Uin, content: String) -> Message {
        match MessageKind::from_code(kind) {
            MessageKind::Text => Message::Text {
                from,
                text: content,
            },
            MessageKind::StatusChange => {
                match crate::codec::parse_decimal(content.trim_matches(' ').as_bytes())
                    .and_then(|code| u32::try_from(code).ok())
                {
                    Some(code) => Message::StatusChange {
                        from,
                        status: Status::from_code(code),
                    },
                    None => Message::Other {
                        kind,
                        from,
                        content,
                    },
                }
            }
            MessageKind::VerificationRequest => Message::VerificationRequest {
                from,
                reason: content,
            },
            MessageKind::Approved => Message::Approved { from },
            MessageKind::Rejected => Message::Rejected {
                from,
                reason: content,
            },
            MessageKind::Other(_) => Message::Other {
                kind,
                from,
                content,
            },
        }
    }

    /// The message's kind.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Text { .. } => MessageKind::Text,
            Message::StatusChange { .. } => MessageKind::StatusChange,
            Message::VerificationRequest { .. } => MessageKind::VerificationRequest,
            Message::Approved { .. } => MessageKind::Approved,
            Message::Rejected { .. } => MessageKind::Rejected,
            Message::Other { kind, .. } => MessageKind::from_code(*kind),
        }
    }

    /// Who sent it.
    pub fn sender(&self) -> Uin {
        match self {
            Message::Text { from, .. }
            | Message::StatusChange { from, .. }
            | Message::VerificationRequest { from, .. }
            | Message::Approved { from }
            | Message::Rejected { from, .. }
            | Message::Other { from, .. } => *from,
        }
    }

    /// The text, reason or raw content; empty for an approval. A status
    /// change gives its code as text (`"30"`).
    pub fn content(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            Message::Text { text: s, .. }
            | Message::VerificationRequest { reason: s, .. }
            | Message::Rejected { reason: s, .. }
            | Message::Other { content: s, .. } => Cow::Borrowed(s),
            Message::Approved { .. } => Cow::Borrowed(""),
            Message::StatusChange { status, .. } => Cow::Owned(status.code().to_string()),
        }
    }
}
