//! `include/httpqq.h` and `include/httpqq_cdef.h` are generated from this
//! crate by cbindgen and committed. This test fails when either differs
//! from a fresh generation; `HTTPQQ_BLESS=1 cargo test -p httpqq-ffi --test
//! header` (or `make header`) rewrites them.
//!
//! `httpqq_cdef.h` holds the same declarations with no preprocessor lines
//! and no comments (the version numbers as enum constants), for runtimes
//! that parse C declarations themselves: LuaJIT's `ffi.cdef`, koffi,
//! Ruby's Fiddle.

use std::path::{Path, PathBuf};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn config() -> cbindgen::Config {
    cbindgen::Config::from_file(crate_dir().join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml is readable")
}

fn write(config: cbindgen::Config, after_includes: String) -> String {
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_crate(crate_dir())
        .with_after_include(after_includes)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

/// `include/httpqq.h`: documented, with the version macros.
fn header() -> String {
    let version = format!(
        "\n#define HTTPQQ_VERSION \"{}\"\n#define HTTPQQ_VERSION_NUMBER ({} * 10000 + {} * 100 + {})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    );
    write(config(), version)
}

/// `include/httpqq_cdef.h`: declarations only.
fn cdef() -> String {
    let mut config = config();
    config.header = None;
    config.include_guard = None;
    config.sys_includes = Vec::new();
    config.no_includes = true;
    config.cpp_compat = false;
    config.documentation = false;
    config.autogen_warning = None;
    let generated = write(config, String::new());
    let mut out = String::new();
    let mut constants = Vec::new();
    for line in generated.lines() {
        let trimmed = line.trim_start();
        if let Some(define) = trimmed.strip_prefix("#define ") {
            // `#define NAME VALUE` (the version numbers): an enum constant.
            let mut parts = define.split_whitespace();
            if let (Some(name), Some(value)) = (parts.next(), parts.next()) {
                constants.push(format!("  {name} = {value},"));
            }
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with("//") {
            continue;
        }
        if line.trim().is_empty() && out.ends_with("\n\n") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    let mut flat = String::new();
    if !constants.is_empty() {
        flat.push_str("enum {\n");
        for constant in &constants {
            flat.push_str(constant);
            flat.push('\n');
        }
        flat.push_str("};\n\n");
    }
    flat.push_str(out.trim_start());
    flat
}

fn check(file: &str, fresh: &str) {
    let path: PathBuf = crate_dir().join("../include").join(file);
    if std::env::var_os("HTTPQQ_BLESS").is_some() {
        std::fs::write(&path, fresh).expect("include/ is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/{file} is stale: run `make header` and commit it"
    );
}

#[test]
fn committed_header_matches_a_fresh_generation() {
    check("httpqq.h", &header());
}

#[test]
fn committed_flat_declarations_match_a_fresh_generation() {
    let flat = cdef();
    assert!(
        flat.lines()
            .all(|l| !l.trim_start().starts_with('#') && !l.contains("//") && !l.contains("/*")),
        "no preprocessor lines and no comments"
    );
    assert!(
        !flat.contains("struct httpqq")
            || flat
                .lines()
                .all(|l| !l.contains('(') || !l.contains("struct ")),
        "no `struct` keyword in a prototype"
    );
    check("httpqq_cdef.h", &flat);
}
