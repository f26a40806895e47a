//! The C entry points that take strings, with any bytes (split at NUL into
//! C strings): each returns a status, never crashes, and frees cleanly.
#![no_main]

use httpqq_ffi::client::*;
use httpqq_ffi::codec::*;
use httpqq_ffi::model::*;
use httpqq_ffi::*;
use libfuzzer_sys::fuzz_target;
use std::ffi::CString;
use std::ptr;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let mut next = || CString::new(parts.next().unwrap_or_default()).unwrap_or_default();
    let (a, b, c) = (next(), next(), next());
    unsafe {
        // Every call reports into one error object, as a binding would.
        let error = status::httpqq_error_new();
        let mut client = ptr::null_mut();
        if httpqq_client_new(a.as_ptr(), &mut client, error) as i32 == 0 {
            httpqq_client_free(client);
        }
        let builder = httpqq_client_builder_new();
        httpqq_client_builder_set_endpoint(builder, b.as_ptr(), error);
        let mut built = ptr::null_mut();
        if httpqq_client_builder_build(builder, &mut built, error) as i32 == 0 {
            httpqq_client_free(built);
        }
        httpqq_client_builder_free(builder);

        for request in [
            {
                let mut r = ptr::null_mut();
                httpqq_request_send_message(10002, a.as_ptr(), &mut r, error);
                r
            },
            {
                let mut r = ptr::null_mut();
                httpqq_request_login(b.as_ptr(), &mut r, error);
                r
            },
            {
                let mut r = ptr::null_mut();
                httpqq_request_login_md5(c.as_ptr(), &mut r, error);
                r
            },
            {
                let mut r = ptr::null_mut();
                httpqq_request_verify(10002, u32::from(data.first().copied().unwrap_or(0) % 4), c.as_ptr(), &mut r, error);
                r
            },
            {
                let mut r = ptr::null_mut();
                httpqq_request_fetch_messages(&mut r, error);
                r
            },
        ] {
            if request.is_null() {
                continue;
            }
            let mut body = ptr::null_mut();
            if httpqq_request_encode(request, 10001, 2, &mut body, error) as i32 == 0 {
                httpqq_string_free(body);
            }
            let mut reply = ptr::null_mut();
            if httpqq_reply_decode(request, 2, data.as_ptr(), data.len(), &mut reply, error) as i32 == 0 {
                let mut list = ptr::null();
                if httpqq_reply_messages(reply, &mut list, error) as i32 == 0 {
                    for i in 0..httpqq_message_list_len(list) {
                        let mut len = 0;
                        httpqq_message_text(httpqq_message_list_get(list, i), &mut len);
                    }
                }
                httpqq_reply_free(reply);
            }
            httpqq_request_free(request);
        }
        let _ = httpqq_user_info_get(ptr::null(), a.as_ptr());
        let _ = status::httpqq_error_message(error);
        let _ = status::httpqq_last_error_message();
        status::httpqq_error_free(error);
    }
});
