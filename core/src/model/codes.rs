//! The protocol's numeric codes as enums: status, gender, blood type,
//! constellation and Chinese zodiac (docs/PROTOCOL.md §6).
//!
//! Every enum keeps codes the protocol does not list in an `Other(n)` case
//! rather than rejecting them, so nothing the server sends is lost.

use std::fmt;

/// Declares a code enum with its codes, English names and Chinese names.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal, $zh:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code the protocol does not list, kept as received.
            Other(u32),
        }

        impl $name {
            /// Every listed value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value for a wire code; unlisted codes become `Other(code)`.
            pub const fn from_code(code: u32) -> Self {
                match code {
                    $( $code => $name::$variant, )*
                    other => $name::Other(other),
                }
            }

            /// The code sent on the wire.
            pub const fn code(self) -> u32 {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Other(code) => code,
                }
            }

            /// A lower-case English name (`"other"` for an unlisted code).
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $label, )*
                    $name::Other(_) => "other",
                }
            }

            /// The name the original Chinese clients showed (empty for
            /// "unset" and for an unlisted code).
            pub const fn chinese_name(self) -> &'static str {
                match self {
                    $( $name::$variant => $zh, )*
                    $name::Other(_) => "",
                }
            }
        }

        impl From<u32> for $name {
            fn from(code: u32) -> Self {
                $name::from_code(code)
            }
        }

        impl From<$name> for u32 {
            fn from(value: $name) -> u32 {
                value.code()
            }
        }

        impl fmt::Display for $name {
            /// The English name; `other(n)` for an unlisted code.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $name::Other(code) => write!(f, "other({code})"),
                    known => f.write_str(known.name()),
                }
            }
        }
    };
}

code_enum! {
    /// A user's presence (`ST`; also the content of status-change messages).
    ///
    /// ```
    /// use httpqq::Status;
    ///
    /// assert_eq!(Status::from_code(30), Status::Busy);
    /// assert_eq!(Status::Busy.code(), 30);
    /// assert_eq!(Status::from_code(15).to_string(), "other(15)");
    /// ```
    pub enum Status {
        /// 10: online.
        Online = 10, "online", "上线";
        /// 20: offline (also how invisible users are shown to others).
        Offline = 20, "offline", "离线";
        /// 30: busy.
        Busy = 30, "busy", "忙碌";
        /// 40: invisible: settable, shown to others as offline.
        Invisible = 40, "invisible", "隐身";
    }
}

impl Status {
    /// Whether friends see this status as online (online or busy); invisible
    /// users are listed as neither online nor notified as such.
    ///
    /// ```
    /// assert!(httpqq::Status::Busy.is_visible_online());
    /// assert!(!httpqq::Status::Invisible.is_visible_online());
    /// ```
    pub const fn is_visible_online(self) -> bool {
        matches!(self, Status::Online | Status::Busy)
    }

    /// Whether a client may set this status with `Change_Stat`
    /// (10, 20, 30 or 40).
    pub const fn is_settable(self) -> bool {
        !matches!(self, Status::Other(_))
    }
}

code_enum! {
    /// Gender (`SX`).
    pub enum Gender {
        /// 0: male.
        Male = 0, "male", "男";
        /// 1: female.
        Female = 1, "female", "女";
    }
}

code_enum! {
    /// Blood type (`BT`).
    pub enum BloodType {
        /// 0: not given.
        Unset = 0, "unset", "";
        /// 1: A.
        A = 1, "A", "A型";
        /// 2: B.
        B = 2, "B", "B型";
        /// 3: O.
        O = 3, "O", "O型";
        /// 4: AB.
        AB = 4, "AB", "AB型";
        /// 5: another blood type (the protocol's own "other", code 5).
        OtherType = 5, "other type", "其他";
    }
}

code_enum! {
    /// Western star sign (`CO`).
    pub enum Constellation {
        /// 0: not given.
        Unset = 0, "unset", "";
        /// 1.
        Aquarius = 1, "aquarius", "水瓶座";
        /// 2.
        Pisces = 2, "pisces", "双鱼座";
        /// 3.
        Aries = 3, "aries", "牡羊座";
        /// 4.
        Taurus = 4, "taurus", "金牛座";
        /// 5.
        Gemini = 5, "gemini", "双子座";
        /// 6.
        Cancer = 6, "cancer", "巨蟹座";
        /// 7.
        Leo = 7, "leo", "狮子座";
        /// 8.
        Virgo = 8, "virgo", "处女座";
        /// 9.
        Libra = 9, "libra", "天秤座";
        /// 10.
        Scorpio = 10, "scorpio", "天蝎座";
        /// 11.
        Sagittarius = 11, "sagittarius", "射手座";
        /// 12.
        Capricorn = 12, "capricorn", "摩羯座";
    }
}

code_enum! {
    /// Chinese zodiac animal (`SH`).
    pub enum Zodiac {
        /// 0: not given.
        Unset = 0, "unset", "";
        /// 1.
        Rat = 1, "rat", "鼠";
        /// 2.
        Ox = 2, "ox", "牛";
        /// 3.
        Tiger = 3, "tiger", "虎";
        /// 4.
        Rabbit = 4, "rabbit", "兔";
        /// 5.
        Dragon = 5, "dragon", "龙";
        /// 6.
        Snake = 6, "snake", "蛇";
        /// 7.
        Horse = 7, "horse", "马";
        /// 8.
        Goat = 8, "goat", "羊";
        /// 9.
        Monkey = 9, "monkey", "猴";
        /// 10.
        Rooster = 10, "rooster", "鸡";
        /// 11.
        Dog = 11, "dog", "狗";
        /// 12.
        Pig = 12, "pig", "猪";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_round_trips() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), *s);
        }
        for z in Zodiac::ALL {
            assert_eq!(Zodiac::from_code(z.code()), *z);
        }
        for c in Constellation::ALL {
            assert_eq!(Constellation::from_code(c.code()), *c);
        }
        for b in BloodType::ALL {
            assert_eq!(BloodType::from_code(b.code()), *b);
        }
        assert_eq!(Constellation::ALL.len(), 13);
        assert_eq!(Zodiac::ALL.len(), 13);
    }

    #[test]
    fn unlisted_codes_are_kept() {
        assert_eq!(Status::from_code(11), Status::Other(11));
        assert_eq!(Status::Other(11).code(), 11);
        assert_eq!(Gender::from_code(7).to_string(), "other(7)");
        assert_eq!(BloodType::from_code(5), BloodType::OtherType);
        assert_eq!(BloodType::from_code(6), BloodType::Other(6));
    }

    #[test]
    fn names_follow_the_notes() {
        assert_eq!(Constellation::Cancer.chinese_name(), "巨蟹座");
        assert_eq!(Zodiac::Tiger.name(), "tiger");
        assert_eq!(Status::Invisible.to_string(), "invisible");
        assert!(!Status::Other(50).is_settable());
    }
}
