//! Row 4: the codec without I/O. Decoding a 1 MiB GetMsgEx reply into typed
//! messages against `std::str::from_utf8` over the same bytes (the one pass
//! no decoder can skip), with the allocations counted; encoding 10,000
//! requests against copying the same bytes.

use crate::alloc;
use crate::measure::{paired, Paired};
use httpqq::codec::{decode_reply, encode_request, encode_value};
use httpqq::{Reply, Request, Uin};
use std::hint::black_box;

/// The messages of a benchmark reply.
#[derive(Clone, Copy)]
pub enum Mix {
    /// Chat-sized: 5 to 80 bytes.
    Short,
    /// About 1 KiB each.
    Long,
}

fn text(n: usize, mix: Mix) -> String {
    let short = match n % 4 {
        0 => format!("Message {n}: hello there, how are you today?"),
        1 => format!("第{n}条消息：你好，今天天气怎么样？我们晚上见面吧。"),
        2 => format!("mixed 混合 text #{n}: 1+1=2 & 50% off, 好的"),
        _ => format!("ok {n}"),
    };
    match mix {
        Mix::Short => short,
        Mix::Long => short.repeat(1024 / short.len().max(1) + 1),
    }
}

/// A GetMsgEx reply of `count` short messages.
pub fn messages_reply_of(count: usize) -> (Vec<u8>, usize) {
    build(|n, _| n >= count, Mix::Short)
}

/// A GetMsgEx reply of about `size` bytes: messages of mixed ASCII and
/// Chinese text, some with the characters the protocol escapes.
pub fn messages_reply(size: usize, mix: Mix) -> (Vec<u8>, usize) {
    build(|_, len| len >= size, mix)
}

fn build(done: impl Fn(usize, usize) -> bool, mix: Mix) -> (Vec<u8>, usize) {
    let mut kinds = String::new();
    let mut senders = String::new();
    let mut texts = String::new();
    let mut n = 0;
    while !done(n, kinds.len() + senders.len() + texts.len()) {
        let text = text(n, mix);
        kinds.push_str("9,");
        senders.push_str(&format!("{},", 10_000_000 + n % 5000));
        encode_value(&text, &mut texts);
        texts.push(',');
        n += 1;
    }
    let body = format!(
        "VER=1.1&CMD=GETMSGEX&SEQ=1&UIN=10001&RES=0&MN={n}&MT={kinds}&UN={senders}&MG={texts}"
    );
    (body.into_bytes(), n)
}

/// What row 4 measured.
pub struct CodecFigures {
    pub decode: Paired,
    pub bytes: usize,
    pub messages: usize,
    pub allocations: usize,
    pub string_allocations: usize,
    pub encode: Paired,
}

pub fn run(rounds: u32, mix: Mix) -> CodecFigures {
    let (body, messages) = messages_reply(1 << 20, mix);
    let request = Request::FetchMessages;

    // Allocations of one decode, and how many of them hold decoded text.
    alloc::counting(true);
    let before = alloc::allocations();
    let reply = decode_reply(&request, 1, &body).expect("the reply decodes");
    let allocations = alloc::allocations() - before;
    alloc::counting(false);
    let Reply::Messages(decoded) = &reply else {
        panic!("not messages")
    };
    assert_eq!(decoded.len(), messages);
    let string_allocations = decoded.iter().filter(|m| !m.content().is_empty()).count();
    drop(reply);

    let decode = paired(
        rounds,
        20,
        || {
            black_box(std::str::from_utf8(black_box(&body)).is_ok());
        },
        || {
            black_box(decode_reply(&request, 1, black_box(&body)).is_ok());
        },
    );

    let requests: Vec<Request> = (0..10_000)
        .map(|n| Request::SendMessage {
            target: Uin::new(10_002),
            text: format!("message {n}: 你好, 1+1=2 & more"),
        })
        .collect();
    let encoded: Vec<String> = requests
        .iter()
        .map(|r| encode_request(Uin::new(10_001), 1, r))
        .collect();
    let encode = paired(
        rounds,
        3,
        || {
            let mut copy = String::new();
            for body in &encoded {
                copy.clear();
                copy.push_str(black_box(body));
                black_box(&copy);
            }
        },
        || {
            for request in &requests {
                black_box(encode_request(Uin::new(10_001), 1, black_box(request)));
            }
        },
    );
    CodecFigures {
        decode,
        bytes: body.len(),
        messages,
        allocations,
        string_allocations,
        encode,
    }
}
