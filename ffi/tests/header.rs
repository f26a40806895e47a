//! `include/httpqq.h` is generated from this crate by cbindgen and committed.
//! This test fails when the committed header differs from a fresh
//! generation; `HTTPQQ_BLESS=1 cargo test -p httpqq-ffi --test header` (or
//! `make header`) rewrites it.

use std::path::Path;

fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml is readable");
    let version = format!(
        "\n#define HTTPQQ_VERSION \"{}\"\n#define HTTPQQ_VERSION_NUMBER ({} * 10000 + {} * 100 + {})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    );
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_crate(crate_dir)
        .with_after_include(version)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_matches_a_fresh_generation() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/httpqq.h");
    let fresh = generate();
    if std::env::var_os("HTTPQQ_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("include/httpqq.h is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/httpqq.h is stale: run `make header` and commit it"
    );
}
