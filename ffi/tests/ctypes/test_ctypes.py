"""Drives libhttpqq.so from Python's ctypes, with no compiled glue: the way
any runtime with a C FFI (ctypes, cffi, LuaJIT, Node, Ruby) embeds it; the
test server comes from libhttpqq_testing.so, loaded after it.

    python3 ffi/tests/ctypes/test_ctypes.py path/to/libhttpqq.so path/to/libhttpqq_testing.so
"""

import ctypes
import sys
import unittest
from ctypes import POINTER, c_bool, c_char_p, c_int32, c_size_t, c_uint32, c_uint64, c_void_p

LIB_PATH = sys.argv.pop(1) if len(sys.argv) > 1 else "libhttpqq.so"
TESTING_PATH = sys.argv.pop(1) if len(sys.argv) > 1 else "libhttpqq_testing.so"
lib = ctypes.CDLL(LIB_PATH)
testing = ctypes.CDLL(TESTING_PATH)

OK, INVALID_ARGUMENT, NOT_LOGGED_IN, LOGIN_FAILED = 0, 10, 2, 5
KIND_TEXT = 9


def prototype(name, restype, *argtypes, library=lib):
    function = getattr(library, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    return function


def fallible(name, *argtypes, library=lib):
    """A function that returns a status and takes an error object last."""
    return prototype(name, c_int32, *argtypes, c_void_p, library=library)


Out = POINTER(c_void_p)
version = prototype("httpqq_version", c_char_p)
last_error = prototype("httpqq_last_error_message", c_char_p)
last_reason = prototype("httpqq_last_error_reason", c_char_p)
server_start = fallible("httpqq_server_start", c_char_p, c_char_p, Out, library=testing)
server_endpoint = prototype("httpqq_server_endpoint", c_char_p, c_void_p, library=testing)
server_free = prototype("httpqq_server_free", None, c_void_p, library=testing)
client_new = fallible("httpqq_client_new", c_char_p, Out)
client_free = prototype("httpqq_client_free", None, c_void_p)
login = fallible("httpqq_client_login", c_void_p, c_uint64, c_char_p, Out)
send = fallible("httpqq_session_send_message", c_void_p, c_uint64, c_char_p)
fetch = fallible("httpqq_session_fetch_messages", c_void_p, Out)
friend_count = fallible("httpqq_session_friend_count", c_void_p, POINTER(c_uint32))
logout = fallible("httpqq_session_logout", c_void_p)
session_free = prototype("httpqq_session_free", None, c_void_p)
list_len = prototype("httpqq_message_list_len", c_size_t, c_void_p)
list_get = prototype("httpqq_message_list_get", c_void_p, c_void_p, c_size_t)
list_free = prototype("httpqq_message_list_free", None, c_void_p)
message_kind = prototype("httpqq_message_get_kind", c_uint32, c_void_p)
message_sender = prototype("httpqq_message_sender", c_uint64, c_void_p)
message_text = prototype("httpqq_message_text", c_void_p, c_void_p, POINTER(c_size_t))
CALLBACK = ctypes.CFUNCTYPE(c_int32, c_void_p, c_void_p)
listen = fallible("httpqq_session_listen", c_void_p, c_uint64, CALLBACK, c_void_p)
set_auto_relogin = fallible("httpqq_session_set_auto_relogin", c_void_p, c_bool)
error_new = prototype("httpqq_error_new", c_void_p)
error_free = prototype("httpqq_error_free", None, c_void_p)
error_status = prototype("httpqq_error_status", c_int32, c_void_p)
error_message = prototype("httpqq_error_message", c_char_p, c_void_p)
error_reason = prototype("httpqq_error_reason", c_char_p, c_void_p)


def new(function, *args):
    """Calls a constructor-like function and returns the handle."""
    handle = c_void_p()
    status = function(*args, ctypes.byref(handle), None)
    if status != OK:
        raise AssertionError(f"{function.__name__}: {status}: {last_error().decode()}")
    return handle


def text_of(message):
    length = c_size_t()
    pointer = message_text(message, ctypes.byref(length))
    return ctypes.string_at(pointer, length.value).decode("utf-8")


class CtypesTest(unittest.TestCase):
    def setUp(self):
        self.server = new(server_start, None, None)
        self.client = new(client_new, server_endpoint(self.server))
        self.alice = new(login, self.client, 10001, b"demo")
        self.bob = new(login, self.client, 10002, b"demo")

    def tearDown(self):
        for session in (self.alice, self.bob):
            logout(session, None)
            session_free(session)
        client_free(self.client)
        server_free(self.server)

    def test_version_is_semver(self):
        self.assertRegex(version().decode(), r"^\d+\.\d+\.\d+$")

    def test_message_with_reserved_and_non_ascii_text_round_trips(self):
        text = "a&b=c,d%e+f\n你好 ünïcode\u0000after nul"
        # C strings end at NUL: send the part before it, read it back whole.
        sent = text.split("\u0000")[0]
        self.assertEqual(send(self.alice, 10002, sent.encode(), None), OK)
        messages = new(fetch, self.bob)
        try:
            self.assertEqual(list_len(messages), 1)
            message = list_get(messages, 0)
            self.assertEqual(message_kind(message), KIND_TEXT)
            self.assertEqual(message_sender(message), 10001)
            self.assertEqual(text_of(message), sent)
        finally:
            list_free(messages)

    def test_bad_arguments_are_errors_not_crashes(self):
        self.assertEqual(send(self.alice, 10002, None, None), INVALID_ARGUMENT)
        self.assertIn(b"NULL", last_error())
        self.assertEqual(send(self.alice, 10002, b"\xff\xfe", None), INVALID_ARGUMENT)
        self.assertIn(b"UTF-8", last_error())
        self.assertEqual(send(None, 10002, b"hi", None), INVALID_ARGUMENT)
        count = c_uint32(7)
        self.assertEqual(friend_count(self.alice, None, None), INVALID_ARGUMENT)
        self.assertEqual(friend_count(self.alice, ctypes.byref(count), None), OK)
        self.assertEqual(count.value, 1)

    def test_login_failure_carries_the_servers_reason(self):
        handle = c_void_p()
        error = error_new()
        try:
            self.assertEqual(login(self.client, 10003, b"wrong", ctypes.byref(handle), error), LOGIN_FAILED)
            self.assertIsNone(handle.value)
            self.assertEqual(error_status(error), LOGIN_FAILED)
            self.assertEqual(error_reason(error).decode(), "密码错误")
            self.assertIn(error_reason(error), error_message(error))
            self.assertEqual(last_reason(), error_reason(error))
            # A success clears the error object.
            self.assertEqual(friend_count(self.alice, ctypes.byref(c_uint32()), error), OK)
            self.assertEqual(error_status(error), OK)
            self.assertIsNone(error_reason(error))
        finally:
            error_free(error)

    def test_not_logged_in_after_logout(self):
        self.assertEqual(logout(self.bob, None), OK)
        count = c_uint32()
        self.assertEqual(friend_count(self.bob, ctypes.byref(count), None), NOT_LOGGED_IN)
        self.assertEqual(set_auto_relogin(self.bob, True, None), OK)
        self.assertEqual(friend_count(self.bob, ctypes.byref(count), None), OK)

    def test_callback_receives_messages_until_it_says_stop(self):
        for text in (b"one", b"two", b"stop"):
            self.assertEqual(send(self.alice, 10002, text, None), OK)
        seen = []

        @CALLBACK
        def on_message(message, _user_data):
            seen.append(text_of(message))
            return 1 if seen[-1] == "stop" else 0

        self.assertNotEqual(listen(self.bob, 0, on_message, None, None), OK)  # a busy loop
        self.assertEqual(listen(self.bob, 100, on_message, None, None), OK)
        self.assertEqual(seen, ["one", "two", "stop"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
