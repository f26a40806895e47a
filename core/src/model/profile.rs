//! User profiles (GetInfo).

use super::{BloodType, Constellation, Face, Gender, Uin, Zodiac};

/// How much of a profile to ask for (`LV`).
///
/// ```
/// use httpqq::InfoLevel;
/// assert_eq!(InfoLevel::Full.code(), 3);
/// assert_eq!(InfoLevel::from_code(1), InfoLevel::Brief);
/// assert_eq!(InfoLevel::from_code(5), InfoLevel::Full);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InfoLevel {
    /// `LV=0` (or 1): UIN and nickname.
    Brief,
    /// `LV=2`: the public profile.
    Normal,
    /// `LV=3` (or more): everything, including blood type, zodiac and mobile.
    #[default]
    Full,
}

impl InfoLevel {
    /// The `LV` code sent.
    pub const fn code(self) -> u32 {
        match self {
            InfoLevel::Brief => 0,
            InfoLevel::Normal => 2,
            InfoLevel::Full => 3,
        }
    }

    /// The level an `LV` code asks for: 0–1 brief, 2 normal, 3 and above
    /// full (how a server reads a request; a caller's code is checked with
    /// `InfoLevel::try_from`).
    pub const fn from_code(code: u32) -> Self {
        match code {
            0 | 1 => InfoLevel::Brief,
            2 => InfoLevel::Normal,
            _ => InfoLevel::Full,
        }
    }
}

/// Exactly the three codes [`InfoLevel::code`] gives (0, 2, 3): what a
/// caller asks for, where another number is a mistake.
impl TryFrom<u32> for InfoLevel {
    type Error = super::UnknownCode;

    fn try_from(code: u32) -> Result<Self, Self::Error> {
        match code {
            0 => Ok(InfoLevel::Brief),
            2 => Ok(InfoLevel::Normal),
            3 => Ok(InfoLevel::Full),
            _ => Err(super::UnknownCode {
                code,
                what: "an InfoLevel (0, 2 or 3)",
            }),
        }
    }
}

/// A user's profile as GetInfo returned it.
///
/// Fields the level did not include are `None`. Every field of the reply
/// (the documented but unexplained `CV`, `ID`, `MT`, `MV` included, and any
/// key this library does not know) stays available, decoded, through
/// [`UserInfo::get`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct UserInfo {
    /// `LV`: the level the server answered.
    pub level: u32,
    /// `UN`: whose profile this is.
    pub uin: Uin,
    /// `NK`: nickname.
    pub nickname: String,
    /// `AD`: address.
    pub address: Option<String>,
    /// `AG`: age.
    pub age: Option<u32>,
    /// `BT`: blood type.
    pub blood_type: Option<BloodType>,
    /// `CO`: constellation (star sign).
    pub constellation: Option<Constellation>,
    /// `CT`: city.
    pub city: Option<String>,
    /// `CY`: country.
    pub country: Option<String>,
    /// `EM`: e-mail.
    pub email: Option<String>,
    /// `FC`: face.
    pub face: Option<Face>,
    /// `HP`: home page.
    pub homepage: Option<String>,
    /// `JB`: occupation.
    pub occupation: Option<String>,
    /// `MO`: mobile phone.
    pub mobile: Option<String>,
    /// `PC`: postal code.
    pub postal_code: Option<String>,
    /// `PH`: phone.
    pub phone: Option<String>,
    /// `PR`: self-introduction.
    pub introduction: Option<String>,
    /// `PV`: province.
    pub province: Option<String>,
    /// `RN`: real name.
    pub real_name: Option<String>,
    /// `SC`: school.
    pub school: Option<String>,
    /// `SH`: Chinese zodiac.
    pub zodiac: Option<Zodiac>,
    /// `SX`: gender.
    pub gender: Option<Gender>,
    /// Every field after `RES`, decoded, in reply order.
    pub fields: Vec<(String, String)>,
}

impl UserInfo {
    /// The decoded value of any field of the reply, by key: the way to reach
    /// the unexplained `CV`, `ID`, `MT` and `MV`, and keys added later.
    ///
    /// ```
    /// let info = httpqq::UserInfo {
    ///     fields: vec![("CV".into(), "\u{1}".into())],
    ///     ..Default::default()
    /// };
    /// assert_eq!(info.get("CV"), Some("\u{1}"));
    /// assert_eq!(info.get("XX"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
