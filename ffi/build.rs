//! Gives the shared library its soname (its install name on macOS), so that
//! programs linked against the installed `libhttpqq.so` load the
//! ABI-compatible version. In 0.x every
//! minor version may break the ABI, so the soname carries it:
//! `libhttpqq.so.0.1`; from 1.0 on, `libhttpqq.so.1`.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhttpqq.so.{abi}"),
        // Found through the program's rpath (libhttpqq_testing's is
        // @loader_path: beside it).
        Ok("macos") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libhttpqq.{abi}.dylib")
        }
        _ => {}
    }
    println!("cargo:rerun-if-changed=build.rs");
}
