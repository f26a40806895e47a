//! The typed results as C handles: friend lists, online friends, messages
//! and user profiles, with an accessor for every field, and the protocol's
//! code enums with their names.

use crate::boundary::{free_handle, static_name, with, CText};
use httpqq::{
    BloodType, Constellation, Gender, Message, MessageKind, OnlineFriend, Status, UserInfo, Zodiac,
};
use std::ffi::c_char;
use std::ptr;

/// A user's presence (`ST`): the values `httpqq_session_set_status` takes
/// and `httpqq_online_friend_status` gives. Other codes may arrive and are
/// kept as they are.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum httpqq_online_status {
    /// Online.
    Online = 10,
    /// Offline (also how invisible users appear to others).
    Offline = 20,
    /// Busy (away).
    Busy = 30,
    /// Invisible.
    Invisible = 40,
}

/// A message's kind (`MT`), as `httpqq_message_get_kind` gives it. Other codes
/// may arrive and are kept as they are.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum httpqq_message_kind {
    /// Someone asks to add you; the text is their reason.
    VerificationRequest = 2,
    /// Your request to add someone was approved.
    Approved = 3,
    /// Your request was rejected; the text is their reason.
    Rejected = 4,
    /// A chat message; the text is the message.
    Text = 9,
    /// A friend's status changed; see `httpqq_message_status`.
    StatusChange = 99,
}

/// How much of a profile `httpqq_session_user_info` asks for (`LV`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum httpqq_info_level {
    /// Nickname, face and a few fields.
    Brief = 0,
    /// The public profile.
    Normal = 2,
    /// Everything.
    Full = 3,
}

/// What adding a friend gave (`CD`), as `httpqq_session_add_friend` writes
/// it. Any code of 2 or more is a refusal.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum httpqq_add_friend_outcome {
    /// Added: they are now in your friend list.
    Added = 0,
    /// They want verification: call `httpqq_session_request_verification`.
    NeedsVerification = 1,
    /// They refuse to be added.
    Refused = 2,
}

/// A list of friends' UINs. Free with `httpqq_friend_list_free`.
pub struct httpqq_friend_list {
    uins: Vec<u64>,
}

impl httpqq_friend_list {
    pub(crate) fn new(uins: &[httpqq::Uin]) -> Self {
        httpqq_friend_list {
            uins: uins.iter().map(|uin| uin.get()).collect(),
        }
    }
}

/// One online friend, borrowed from its `httpqq_online_list`.
pub struct httpqq_online_friend {
    friend: OnlineFriend,
    nickname: CText,
}

/// A list of online friends. Free with `httpqq_online_list_free`.
pub struct httpqq_online_list {
    friends: Vec<httpqq_online_friend>,
}

impl httpqq_online_list {
    pub(crate) fn new(friends: Vec<OnlineFriend>) -> Self {
        httpqq_online_list {
            friends: friends
                .into_iter()
                .map(|friend| httpqq_online_friend {
                    nickname: CText::new(&friend.nickname),
                    friend,
                })
                .collect(),
        }
    }
}

/// One incoming message, borrowed from its `httpqq_message_list`.
pub struct httpqq_message {
    message: Message,
    content: CText,
}

impl httpqq_message {
    pub(crate) fn new(message: Message) -> Self {
        httpqq_message {
            content: CText::new(&message.content()),
            message,
        }
    }
}

/// A batch of incoming messages, oldest first. Free with
/// `httpqq_message_list_free`.
pub struct httpqq_message_list {
    messages: Vec<httpqq_message>,
}

impl httpqq_message_list {
    pub(crate) fn new(messages: Vec<Message>) -> Self {
        httpqq_message_list {
            messages: messages.into_iter().map(httpqq_message::new).collect(),
        }
    }
}

/// A user's profile. Free with `httpqq_user_info_free`.
pub struct httpqq_user_info {
    info: UserInfo,
    /// The typed text fields as C text.
    texts: InfoTexts,
    /// Every field of the reply as C text, in reply order.
    fields: Vec<(CText, CText)>,
}

/// Declares the C text of each text field of [`UserInfo`].
macro_rules! info_texts {
    ($($field:ident),*) => {
        struct InfoTexts {
            nickname: CText,
            $($field: Option<CText>,)*
        }

        impl InfoTexts {
            fn new(info: &UserInfo) -> Self {
                InfoTexts {
                    nickname: CText::new(&info.nickname),
                    $($field: info.$field.as_deref().map(CText::new),)*
                }
            }
        }
    };
}

info_texts!(
    address,
    city,
    country,
    email,
    homepage,
    occupation,
    mobile,
    postal_code,
    phone,
    introduction,
    province,
    real_name,
    school
);

fn optional_ptr(text: &Option<CText>) -> *const c_char {
    text.as_ref().map_or(ptr::null(), CText::as_ptr)
}

impl httpqq_user_info {
    pub(crate) fn new(info: UserInfo) -> Self {
        let fields = info
            .fields
            .iter()
            .map(|(key, value)| (CText::new(key), CText::new(value)))
            .collect();
        httpqq_user_info {
            texts: InfoTexts::new(&info),
            info,
            fields,
        }
    }

    /// The C text of the reply's field `key`.
    fn field(&self, key: &str) -> *const c_char {
        self.info
            .fields
            .iter()
            .position(|(k, _)| k == key)
            .map_or(ptr::null(), |n| self.fields[n].1.as_ptr())
    }
}

// ---- friend lists ---------------------------------------------------------

/// The number of UINs in the list; 0 for NULL.
///
/// # Safety
/// `list` is NULL or a live friend list.
#[no_mangle]
pub unsafe extern "C" fn httpqq_friend_list_len(list: *const httpqq_friend_list) -> usize {
    with(list, 0, |list| list.uins.len())
}

/// The UIN at `index`; 0 (never a valid UIN) for NULL or an index out of
/// range.
///
/// # Safety
/// `list` is NULL or a live friend list.
#[no_mangle]
pub unsafe extern "C" fn httpqq_friend_list_get(
    list: *const httpqq_friend_list,
    index: usize,
) -> u64 {
    with(list, 0, |list| list.uins.get(index).copied().unwrap_or(0))
}

/// Frees the list; NULL is a no-op.
///
/// # Safety
/// `list` is NULL or a list from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_friend_list_free(list: *mut httpqq_friend_list) {
    free_handle(list)
}

// ---- online friends -------------------------------------------------------

/// The number of friends in the list; 0 for NULL.
///
/// # Safety
/// `list` is NULL or a live online list.
#[no_mangle]
pub unsafe extern "C" fn httpqq_online_list_len(list: *const httpqq_online_list) -> usize {
    with(list, 0, |list| list.friends.len())
}

/// The friend at `index`, or NULL for NULL or an index out of range.
///
/// Borrowed: valid until the list is freed.
///
/// # Safety
/// `list` is NULL or a live online list.
#[no_mangle]
pub unsafe extern "C" fn httpqq_online_list_get(
    list: *const httpqq_online_list,
    index: usize,
) -> *const httpqq_online_friend {
    with(list, ptr::null(), |list| {
        list.friends
            .get(index)
            .map_or(ptr::null(), |f| f as *const _)
    })
}

/// Frees the list and the friends borrowed from it; NULL is a no-op.
///
/// # Safety
/// `list` is NULL or a list from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_online_list_free(list: *mut httpqq_online_list) {
    free_handle(list)
}

/// The friend's UIN (`UN`); 0 for NULL.
///
/// # Safety
/// `friend` is NULL or a live online friend (borrowed from a live list).
#[no_mangle]
pub unsafe extern "C" fn httpqq_online_friend_uin(friend: *const httpqq_online_friend) -> u64 {
    with(friend, 0, |f| f.friend.uin.get())
}

/// The friend's face id (`FC`); 0 for NULL. Its picture is `face / 3 + 1`.
///
/// # Safety
/// `friend` is NULL or a live online friend (borrowed from a live list).
#[no_mangle]
pub unsafe extern "C" fn httpqq_online_friend_face(friend: *const httpqq_online_friend) -> u32 {
    with(friend, 0, |f| f.friend.face.id())
}

/// The friend's status code (`ST`, see `httpqq_online_status`); 0 for NULL.
///
/// # Safety
/// `friend` is NULL or a live online friend (borrowed from a live list).
#[no_mangle]
pub unsafe extern "C" fn httpqq_online_friend_status(friend: *const httpqq_online_friend) -> u32 {
    with(friend, 0, |f| f.friend.status.code())
}

/// The friend's nickname (`NK`), UTF-8; NULL for NULL.
///
/// Borrowed: valid until the list is freed.
///
/// # Safety
/// `friend` is NULL or a live online friend (borrowed from a live list).
#[no_mangle]
pub unsafe extern "C" fn httpqq_online_friend_nickname(
    friend: *const httpqq_online_friend,
) -> *const c_char {
    with(friend, ptr::null(), |f| f.nickname.as_ptr())
}

// ---- messages -------------------------------------------------------------

/// The number of messages in the list; 0 for NULL.
///
/// # Safety
/// `list` is NULL or a live message list.
#[no_mangle]
pub unsafe extern "C" fn httpqq_message_list_len(list: *const httpqq_message_list) -> usize {
    with(list, 0, |list| list.messages.len())
}

/// The message at `index` (oldest first), or NULL for NULL or an index out
/// of range.
///
/// Borrowed: valid until the list is freed.
///
/// # Safety
/// `list` is NULL or a live message list.
#[no_mangle]
pub unsafe extern "C" fn httpqq_message_list_get(
    list: *const httpqq_message_list,
    index: usize,
) -> *const httpqq_message {
    with(list, ptr::null(), |list| {
        list.messages
            .get(index)
            .map_or(ptr::null(), |m| m as *const _)
    })
}

/// Frees the list and the messages borrowed from it; NULL is a no-op.
///
/// # Safety
/// `list` is NULL or a list from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_message_list_free(list: *mut httpqq_message_list) {
    free_handle(list)
}

/// The message's kind code (`MT`, see `httpqq_message_kind`); 0 for NULL.
///
/// # Safety
/// `message` is NULL or a live message (borrowed from a live list or event).
#[no_mangle]
pub unsafe extern "C" fn httpqq_message_get_kind(message: *const httpqq_message) -> u32 {
    with(message, 0, |m| m.message.kind().code())
}

/// Who sent the message (`UN`); 0 for NULL.
///
/// # Safety
/// `message` is NULL or a live message (borrowed from a live list or event).
#[no_mangle]
pub unsafe extern "C" fn httpqq_message_sender(message: *const httpqq_message) -> u64 {
    with(message, 0, |m| m.message.sender().get())
}

/// The message's text (`MG`), UTF-8: the chat text, the reason of a
/// verification request or rejection, "" for an approval, the status code
/// as text for a status change. NULL for NULL.
///
/// When `len` is not NULL, the text's length in bytes is written to it:
/// the way to read a text that holds a NUL byte.
///
/// Borrowed: valid until the list is freed.
///
/// # Safety
/// `message` is NULL or a live message; `len` is NULL or valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn httpqq_message_text(
    message: *const httpqq_message,
    len: *mut usize,
) -> *const c_char {
    with(message, ptr::null(), |m| m.content.with_len(len))
}

/// For a status change (`HTTPQQ_MESSAGE_KIND_STATUS_CHANGE`), the new
/// status code (see `httpqq_online_status`); 0 for any other message or
/// NULL.
///
/// # Safety
/// `message` is NULL or a live message (borrowed from a live list or event).
#[no_mangle]
pub unsafe extern "C" fn httpqq_message_status(message: *const httpqq_message) -> u32 {
    with(message, 0, |m| match &m.message {
        Message::StatusChange { status, .. } => status.code(),
        _ => 0,
    })
}

// ---- user info ------------------------------------------------------------

/// Frees the profile; NULL is a no-op.
///
/// # Safety
/// `info` is NULL or a profile from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_free(info: *mut httpqq_user_info) {
    free_handle(info)
}

/// The level the server answered (`LV`); 0 for NULL.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_level(info: *const httpqq_user_info) -> u32 {
    with(info, 0, |i| i.info.level)
}

/// Whose profile this is (`UN`); 0 for NULL.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_uin(info: *const httpqq_user_info) -> u64 {
    with(info, 0, |i| i.info.uin.get())
}

/// The value of any field of the reply by its key (e.g. `"NK"`, `"CV"`),
/// UTF-8; NULL when the reply has no such field or an argument is NULL or
/// not UTF-8: the way to reach the unexplained `CV`, `ID`, `MT`, `MV` and
/// keys added later.
///
/// Borrowed: valid until the profile is freed.
///
/// # Safety
/// `key` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_get(
    info: *const httpqq_user_info,
    key: *const c_char,
) -> *const c_char {
    let Ok(key) = crate::boundary::text(key, "key") else {
        return ptr::null();
    };
    with(info, ptr::null(), |i| i.field(key))
}

/// The number of fields of the reply after `RES`; 0 for NULL.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_field_count(info: *const httpqq_user_info) -> usize {
    with(info, 0, |i| i.fields.len())
}

/// The key of the field at `index`, in reply order; NULL when out of range.
///
/// Borrowed: valid until the profile is freed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_field_key(
    info: *const httpqq_user_info,
    index: usize,
) -> *const c_char {
    with(info, ptr::null(), |i| {
        i.fields.get(index).map_or(ptr::null(), |(k, _)| k.as_ptr())
    })
}

/// The decoded value of the field at `index`; NULL when out of range.
///
/// Borrowed: valid until the profile is freed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_field_value(
    info: *const httpqq_user_info,
    index: usize,
) -> *const c_char {
    with(info, ptr::null(), |i| {
        i.fields.get(index).map_or(ptr::null(), |(_, v)| v.as_ptr())
    })
}

/// Reads one of the profile's optional number fields, -1 when absent.
fn optional_code(
    info: *const httpqq_user_info,
    read: impl FnOnce(&UserInfo) -> Option<u32>,
) -> i64 {
    with(info, -1, |i| read(&i.info).map_or(-1, i64::from))
}

/// The nickname (`NK`); NULL for NULL. Borrowed: valid until the profile is
/// freed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_nickname(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| i.texts.nickname.as_ptr())
}

/// The address (`AD`); NULL when absent. Borrowed: valid until the profile
/// is freed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_address(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.address))
}

/// The city (`CT`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_city(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.city))
}

/// The country (`CY`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_country(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.country))
}

/// The e-mail address (`EM`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_email(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.email))
}

/// The home page (`HP`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_homepage(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.homepage))
}

/// The occupation (`JB`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_occupation(
    info: *const httpqq_user_info,
) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.occupation))
}

/// The mobile phone (`MO`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_mobile(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.mobile))
}

/// The postal code (`PC`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_postal_code(
    info: *const httpqq_user_info,
) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.postal_code))
}

/// The phone (`PH`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_phone(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.phone))
}

/// The self-introduction (`PR`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_introduction(
    info: *const httpqq_user_info,
) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.introduction))
}

/// The province (`PV`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_province(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.province))
}

/// The real name (`RN`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_real_name(
    info: *const httpqq_user_info,
) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.real_name))
}

/// The school (`SC`); NULL when absent. Borrowed.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_school(info: *const httpqq_user_info) -> *const c_char {
    with(info, ptr::null(), |i| optional_ptr(&i.texts.school))
}

/// The age (`AG`); -1 when absent or for NULL.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_age(info: *const httpqq_user_info) -> i64 {
    optional_code(info, |i| i.age)
}

/// The face id (`FC`); -1 when absent or for NULL.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_face(info: *const httpqq_user_info) -> i64 {
    optional_code(info, |i| i.face.map(|f| f.id()))
}

/// The gender code (`SX`, name by `httpqq_gender_name`); -1 when absent.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_gender(info: *const httpqq_user_info) -> i64 {
    optional_code(info, |i| i.gender.map(Gender::code))
}

/// The blood type code (`BT`, name by `httpqq_blood_type_name`); -1 when
/// absent.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_blood_type(info: *const httpqq_user_info) -> i64 {
    optional_code(info, |i| i.blood_type.map(BloodType::code))
}

/// The constellation code (`CO`, name by `httpqq_constellation_name`); -1
/// when absent.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_constellation(info: *const httpqq_user_info) -> i64 {
    optional_code(info, |i| i.constellation.map(Constellation::code))
}

/// The Chinese zodiac code (`SH`, name by `httpqq_zodiac_name`); -1 when
/// absent.
///
/// # Safety
/// `info` is NULL or a live profile.
#[no_mangle]
pub unsafe extern "C" fn httpqq_user_info_zodiac(info: *const httpqq_user_info) -> i64 {
    optional_code(info, |i| i.zodiac.map(Zodiac::code))
}

// ---- names ----------------------------------------------------------------

/// The English name of a status code ("online", "busy", …; "other" for a
/// code the protocol does not list). Static: never freed.
#[no_mangle]
pub extern "C" fn httpqq_online_status_name(code: u32) -> *const c_char {
    static_name(Status::from_code(code).name())
}

/// The Chinese name of a status code ("上线", …; "" when unlisted). Static.
#[no_mangle]
pub extern "C" fn httpqq_online_status_chinese_name(code: u32) -> *const c_char {
    static_name(Status::from_code(code).chinese_name())
}

/// The English name of a message kind code ("text", "status change", …;
/// "other"). Static.
#[no_mangle]
pub extern "C" fn httpqq_message_kind_name(code: u32) -> *const c_char {
    static_name(MessageKind::from_code(code).name())
}

/// The English name of a gender code. Static.
#[no_mangle]
pub extern "C" fn httpqq_gender_name(code: u32) -> *const c_char {
    static_name(Gender::from_code(code).name())
}

/// The Chinese name of a gender code ("" when unlisted). Static.
#[no_mangle]
pub extern "C" fn httpqq_gender_chinese_name(code: u32) -> *const c_char {
    static_name(Gender::from_code(code).chinese_name())
}

/// The English name of a blood type code. Static.
#[no_mangle]
pub extern "C" fn httpqq_blood_type_name(code: u32) -> *const c_char {
    static_name(BloodType::from_code(code).name())
}

/// The Chinese name of a blood type code ("" when unlisted). Static.
#[no_mangle]
pub extern "C" fn httpqq_blood_type_chinese_name(code: u32) -> *const c_char {
    static_name(BloodType::from_code(code).chinese_name())
}

/// The English name of a constellation code. Static.
#[no_mangle]
pub extern "C" fn httpqq_constellation_name(code: u32) -> *const c_char {
    static_name(Constellation::from_code(code).name())
}

/// The Chinese name of a constellation code ("" when unlisted). Static.
#[no_mangle]
pub extern "C" fn httpqq_constellation_chinese_name(code: u32) -> *const c_char {
    static_name(Constellation::from_code(code).chinese_name())
}

/// The English name of a Chinese zodiac code. Static.
#[no_mangle]
pub extern "C" fn httpqq_zodiac_name(code: u32) -> *const c_char {
    static_name(Zodiac::from_code(code).name())
}

/// The Chinese name of a Chinese zodiac code ("" when unlisted). Static.
#[no_mangle]
pub extern "C" fn httpqq_zodiac_chinese_name(code: u32) -> *const c_char {
    static_name(Zodiac::from_code(code).chinese_name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn c_enums_carry_the_cores_codes() {
        let statuses = [
            (httpqq_online_status::Online, Status::Online),
            (httpqq_online_status::Offline, Status::Offline),
            (httpqq_online_status::Busy, Status::Busy),
            (httpqq_online_status::Invisible, Status::Invisible),
        ];
        assert_eq!(statuses.len(), Status::ALL.len());
        for (c, core) in statuses {
            assert_eq!(c as u32, core.code(), "{core:?}");
        }
        let kinds = [
            (
                httpqq_message_kind::VerificationRequest,
                MessageKind::VerificationRequest,
            ),
            (httpqq_message_kind::Approved, MessageKind::Approved),
            (httpqq_message_kind::Rejected, MessageKind::Rejected),
            (httpqq_message_kind::Text, MessageKind::Text),
            (httpqq_message_kind::StatusChange, MessageKind::StatusChange),
        ];
        for (c, core) in kinds {
            assert_eq!(c as u32, core.code(), "{core:?}");
        }
        for (c, core) in [
            (httpqq_info_level::Brief, httpqq::InfoLevel::Brief),
            (httpqq_info_level::Normal, httpqq::InfoLevel::Normal),
            (httpqq_info_level::Full, httpqq::InfoLevel::Full),
        ] {
            assert_eq!(c as u32, core.code());
        }
        for (c, core) in [
            (
                httpqq_add_friend_outcome::Added,
                httpqq::AddFriendOutcome::Added,
            ),
            (
                httpqq_add_friend_outcome::NeedsVerification,
                httpqq::AddFriendOutcome::NeedsVerification,
            ),
            (
                httpqq_add_friend_outcome::Refused,
                httpqq::AddFriendOutcome::Refused { code: 2 },
            ),
        ] {
            assert_eq!(c as u32, core.code());
        }
    }

    #[test]
    fn accessors_are_safe_on_null_and_out_of_range() {
        let list = httpqq_message_list::new(vec![Message::Approved {
            from: httpqq::Uin::new(5),
        }]);
        // SAFETY: every pointer is NULL, or `list` (alive to the end) and
        // the message borrowed from it; `len` is a local.
        unsafe {
            assert_eq!(httpqq_friend_list_len(ptr::null()), 0);
            assert_eq!(httpqq_friend_list_get(ptr::null(), 3), 0);
            assert!(httpqq_message_list_get(ptr::null(), 0).is_null());
            assert!(httpqq_message_text(ptr::null(), ptr::null_mut()).is_null());
            assert_eq!(httpqq_user_info_age(ptr::null()), -1);
            assert_eq!(httpqq_message_list_len(&list), 1);
            assert!(httpqq_message_list_get(&list, 1).is_null());
            let message = httpqq_message_list_get(&list, 0);
            assert_eq!(httpqq_message_sender(message), 5);
            assert_eq!(httpqq_message_get_kind(message), 3);
            let mut len = 99;
            let text = httpqq_message_text(message, &mut len);
            assert_eq!(len, 0);
            assert_eq!(CStr::from_ptr(text).to_bytes(), b"");
        }
    }

    #[test]
    fn user_info_text_accessors_read_their_own_key() {
        let info = httpqq_user_info::new(UserInfo {
            nickname: "小明".into(),
            city: Some("深圳".into()),
            age: Some(30),
            fields: vec![
                ("NK".into(), "小明".into()),
                ("CT".into(), "深圳".into()),
                ("AG".into(), "30".into()),
            ],
            ..Default::default()
        });
        // SAFETY: `info` is alive to the end of the test; the strings read
        // are NUL-terminated and borrowed from it.
        unsafe {
            let read = |p: *const c_char| CStr::from_ptr(p).to_str().unwrap().to_owned();
            assert_eq!(read(httpqq_user_info_nickname(&info)), "小明");
            assert_eq!(read(httpqq_user_info_city(&info)), "深圳");
            assert!(httpqq_user_info_email(&info).is_null());
            assert_eq!(httpqq_user_info_age(&info), 30);
            assert_eq!(httpqq_user_info_gender(&info), -1);
            assert_eq!(httpqq_user_info_field_count(&info), 3);
            assert_eq!(read(httpqq_user_info_field_key(&info, 2)), "AG");
            assert!(httpqq_user_info_field_value(&info, 3).is_null());
            assert_eq!(read(httpqq_user_info_get(&info, c"CT".as_ptr())), "深圳");
        }
    }

    #[test]
    fn names_come_from_the_core() {
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let read = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap();
        assert_eq!(read(httpqq_online_status_name(30)), Status::Busy.name());
        assert_eq!(read(httpqq_online_status_chinese_name(10)), "上线");
        assert_eq!(read(httpqq_message_kind_name(12345)), "other");
        assert_eq!(read(httpqq_zodiac_name(1)), Zodiac::from_code(1).name());
    }
}
