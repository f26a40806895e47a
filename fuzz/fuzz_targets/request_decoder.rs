//! Any bytes as a request body, read as a server reads it (both ways of
//! reading `+`): the decoder returns a request or an error, never panics,
//! and a request a client could have sent is written back by core's
//! encoder as a body that reads the same.
#![no_main]

use httpqq::codec::{decode_request, encode_request, Plus};
use httpqq::Uin;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    for plus in [Plus::Literal, Plus::Space] {
        let Ok(received) = decode_request(body, plus) else {
            continue;
        };
        let _ = received.command();
        if let Some(request) = received.to_request() {
            let again = encode_request(Uin::new(received.uin), 1, &request);
            let reread = decode_request(again.as_bytes(), Plus::Literal)
                .expect("core reads what core writes");
            assert_eq!(reread.to_request(), Some(request));
        }
    }
});
