//! `include/httpqq.h` and `include/httpqq_cdef.h` are generated from this
//! crate by cbindgen and committed, and so are `include/httpqq_testing.h`
//! and `include/httpqq_testing_cdef.h`, from `ffi/testing/`. This test fails when either differs
//! from a fresh generation; `HTTPQQ_BLESS=1 cargo test -p httpqq-ffi --test
//! header` (or `make header`) rewrites them.
//!
//! `httpqq_cdef.h` holds the same declarations with no preprocessor lines
//! and no comments (the version numbers as enum constants), for runtimes
//! that parse C declarations themselves: LuaJIT's `ffi.cdef`, koffi,
//! Ruby's Fiddle.

use std::path::{Path, PathBuf};

/// The two libraries: libhttpqq (this crate) and libhttpqq_testing.
#[derive(Clone, Copy)]
enum Library {
    Client,
    Testing,
}

impl Library {
    fn dir(self) -> PathBuf {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        match self {
            Library::Client => here.to_path_buf(),
            Library::Testing => here.join("testing"),
        }
    }

    /// The header's base name: `httpqq`, `httpqq_testing`.
    fn name(self) -> &'static str {
        match self {
            Library::Client => "httpqq",
            Library::Testing => "httpqq_testing",
        }
    }
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn config(library: Library) -> cbindgen::Config {
    cbindgen::Config::from_file(library.dir().join("cbindgen.toml"))
        .expect("the library's cbindgen.toml is readable")
}

fn write(library: Library, config: cbindgen::Config, after_includes: String) -> String {
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_crate(library.dir())
        .with_after_include(after_includes)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

/// The documented header; libhttpqq's with the version macros.
fn header(library: Library) -> String {
    if let Library::Testing = library {
        return write(library, config(library), String::new());
    }
    let version = format!(
        "\n#define HTTPQQ_VERSION \"{}\"\n#define HTTPQQ_VERSION_NUMBER ({} * 10000 + {} * 100 + {})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    );
    write(library, config(library), version)
}

/// The flat declarations only.
fn cdef(library: Library) -> String {
    let mut config = config(library);
    config.includes = Vec::new();
    config.header = None;
    config.include_guard = None;
    config.sys_includes = Vec::new();
    config.no_includes = true;
    config.cpp_compat = false;
    config.documentation = false;
    config.autogen_warning = None;
    let generated = write(library, config, String::new());
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
fn committed_headers_match_a_fresh_generation() {
    for library in [Library::Client, Library::Testing] {
        check(&format!("{}.h", library.name()), &header(library));
    }
}

#[test]
fn committed_flat_declarations_match_a_fresh_generation() {
    for library in [Library::Client, Library::Testing] {
        let flat = cdef(library);
        assert!(
            flat.lines().all(|l| !l.trim_start().starts_with('#')
                && !l.contains("//")
                && !l.contains("/*")),
            "no preprocessor lines and no comments"
        );
        assert!(
            !flat.contains("struct httpqq")
                || flat
                    .lines()
                    .all(|l| !l.contains('(') || !l.contains("struct ")),
            "no `struct` keyword in a prototype"
        );
        check(&format!("{}_cdef.h", library.name()), &flat);
    }
}

#[test]
fn the_client_library_declares_no_server() {
    let client = header(Library::Client);
    assert!(
        !client.contains("httpqq_server_start(") && !client.contains("struct httpqq_server"),
        "httpqq.h declares the server"
    );
    let testing = header(Library::Testing);
    assert!(testing.contains("httpqq_server_start"));
    assert!(
        !testing.contains("struct httpqq_error"),
        "httpqq_testing.h declares libhttpqq's error object again"
    );
}
