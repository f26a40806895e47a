//! The sans-I/O codec for people with their own HTTP stack: `Request`
//! builds a request, `encode_request` gives the body to POST,
//! `decode_reply` reads the reply.

use crate::client::info_level;
use crate::convert::{code, member, EnumClass};
use crate::errors::to_py;
use crate::model::{LoginOutcome, Message, OnlineFriend, UserInfo};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// One request, made by the class methods (`Request.send_message(...)`).
#[pyclass(frozen, module = "httpqq")]
pub(crate) struct Request {
    request: httpqq::Request,
}

fn made(request: httpqq::Request) -> Request {
    Request { request }
}

fn verification(action: u32) -> PyResult<httpqq::Verification> {
    httpqq::Verification::try_from(action).map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymethods]
impl Request {
    /// Login with a password (only its MD5 is encoded).
    #[staticmethod]
    fn login(password: &str) -> Request {
        made(httpqq::Request::Login {
            password: httpqq::PasswordHash::from_password(password),
        })
    }

    /// The number of friends (List, `TN=0`).
    #[staticmethod]
    fn friend_count() -> Request {
        made(httpqq::Request::FriendCount)
    }

    /// At most `max` friends (List); `None` or 0: the default (160).
    #[staticmethod]
    #[pyo3(signature = (*, max = None))]
    fn friends(max: Option<&Bound<'_, PyAny>>) -> PyResult<Request> {
        let max = max.map(|m| code(m, "max")).transpose()?.unwrap_or(0);
        Ok(made(httpqq::Request::FriendList { max }))
    }

    /// The number of friends online (Query_Stat, `TN=0`).
    #[staticmethod]
    fn online_count() -> Request {
        made(httpqq::Request::OnlineCount)
    }

    /// At most `max` friends online (Query_Stat); `None` or 0: the default.
    #[staticmethod]
    #[pyo3(signature = (*, max = None))]
    fn online_friends(max: Option<&Bound<'_, PyAny>>) -> PyResult<Request> {
        let max = max.map(|m| code(m, "max")).transpose()?.unwrap_or(0);
        Ok(made(httpqq::Request::OnlineFriends { max }))
    }

    /// A profile (GetInfo).
    #[staticmethod]
    #[pyo3(signature = (uin, *, level = None))]
    fn user_info(uin: &Bound<'_, PyAny>, level: Option<&Bound<'_, PyAny>>) -> PyResult<Request> {
        let level = match level {
            None => httpqq::InfoLevel::Full,
            Some(level) => info_level(code(level, "level")?)?,
        };
        Ok(made(httpqq::Request::UserInfo {
            target: crate::convert::wire_uin(uin, "uin")?,
            level,
        }))
    }

    /// AddToList.
    #[staticmethod]
    fn add_friend(uin: &Bound<'_, PyAny>) -> PyResult<Request> {
        Ok(made(httpqq::Request::AddFriend {
            target: crate::convert::wire_uin(uin, "uin")?,
        }))
    }

    /// Ack_AddToList with a `Verification` action.
    #[staticmethod]
    #[pyo3(signature = (uin, action, reason = ""))]
    fn verify(
        uin: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
        reason: &str,
    ) -> PyResult<Request> {
        Ok(made(httpqq::Request::Verify {
            target: crate::convert::wire_uin(uin, "uin")?,
            action: verification(code(action, "action")?)?,
            reason: reason.to_owned(),
        }))
    }

    /// DelFromList.
    #[staticmethod]
    fn remove_friend(uin: &Bound<'_, PyAny>) -> PyResult<Request> {
        Ok(made(httpqq::Request::RemoveFriend {
            target: crate::convert::wire_uin(uin, "uin")?,
        }))
    }

    /// Change_Stat.
    #[staticmethod]
    fn set_status(status: &Bound<'_, PyAny>) -> PyResult<Request> {
        Ok(made(httpqq::Request::SetStatus {
            status: httpqq::Status::from_code(code(status, "status")?),
        }))
    }

    /// GetMsgEx.
    #[staticmethod]
    fn fetch_messages() -> Request {
        made(httpqq::Request::FetchMessages)
    }

    /// CLTMSG.
    #[staticmethod]
    fn send_message(uin: &Bound<'_, PyAny>, text: &str) -> PyResult<Request> {
        Ok(made(httpqq::Request::SendMessage {
            target: crate::convert::wire_uin(uin, "uin")?,
            text: text.to_owned(),
        }))
    }

    /// Logout.
    #[staticmethod]
    fn logout() -> Request {
        made(httpqq::Request::Logout)
    }

    /// The command's name on the wire (e.g. `"CLTMSG"`).
    #[getter]
    fn command(&self) -> &'static str {
        self.request.command().wire_name()
    }

    /// Whether the request must go on a connection of its own, closed after
    /// the reply (Query_Stat `TN=0`, which the original server answered
    /// twice).
    #[getter]
    fn closes_connection(&self) -> bool {
        self.request.closes_connection()
    }

    fn __repr__(&self) -> String {
        format!("Request({})", self.request.command().wire_name())
    }
}

/// The body to POST for `request`, from `uin`, with sequence number `seq`.
#[pyfunction]
#[pyo3(signature = (request, *, uin, seq))]
pub(crate) fn encode_request(
    request: &Request,
    uin: &Bound<'_, PyAny>,
    seq: &Bound<'_, PyAny>,
) -> PyResult<String> {
    Ok(httpqq::codec::encode_request(
        crate::convert::wire_uin(uin, "uin")?,
        crate::convert::seq(seq)?,
        &request.request,
    ))
}

/// Reads `body` as the reply to `request` sent with `seq`: a
/// `LoginOutcome`, an `int` count, a `list` of UINs, of `OnlineFriend` or
/// of `Message`, a `UserInfo`, an `AddFriendOutcome`, or `None` for a
/// plain acceptance. Raises the `httpqq` exception for a failure.
#[pyfunction]
#[pyo3(signature = (request, body, *, seq))]
pub(crate) fn decode_reply<'py>(
    py: Python<'py>,
    request: &Request,
    body: &[u8],
    seq: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    use httpqq::Reply;
    let seq = crate::convert::seq(seq)?;
    let reply =
        httpqq::codec::decode_reply(&request.request, seq, body).map_err(|e| to_py(py, e))?;
    Ok(match reply {
        Reply::Login(outcome) => LoginOutcome::from(outcome).into_pyobject(py)?.into_any(),
        Reply::FriendCount(n) | Reply::OnlineCount(n) => n.into_pyobject(py)?.into_any(),
        Reply::FriendList(uins) => uins
            .into_iter()
            .map(|u| u.get())
            .collect::<Vec<_>>()
            .into_pyobject(py)?
            .into_any(),
        Reply::OnlineFriends(friends) => friends
            .into_iter()
            .map(OnlineFriend::from)
            .collect::<Vec<_>>()
            .into_pyobject(py)?
            .into_any(),
        Reply::UserInfo(info) => UserInfo::from(*info).into_pyobject(py)?.into_any(),
        Reply::AddFriend(outcome) => member(py, EnumClass::AddFriendOutcome, outcome.code())?,
        Reply::Messages(messages) => messages
            .into_iter()
            .map(Message::from)
            .collect::<Vec<_>>()
            .into_pyobject(py)?
            .into_any(),
        Reply::Done => py.None().into_bound(py),
        other => {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                "a reply this version of the Python package does not know: {other:?}"
            )))
        }
    })
}
