//! Links libhttpqq, whose error objects this library fills (through
//! `httpqq_error_set`), from `HTTPQQ_LIB_DIR`: the folder where libhttpqq
//! was laid out under its own name (`ffi/install.sh` and `make dist` build
//! it there first). Without it (a plain `cargo build --workspace`) the
//! library is built with the symbol left for the loader, which is enough
//! to type-check and lint it; what is shipped and tested is always built
//! with it.
//!
//! Also gives the library its soname (`libhttpqq_testing.so.0.3`) and its
//! install name on macOS, and lets it find libhttpqq beside itself.

include!("../soname.rs");

fn main() {
    let abi = abi_version();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    println!("cargo:rerun-if-env-changed=HTTPQQ_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../soname.rs");
    if let Ok(dir) = std::env::var("HTTPQQ_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=dylib=httpqq");
    } else if os == "macos" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-undefined,dynamic_lookup");
    }
    match os.as_str() {
        "linux" => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhttpqq_testing.so.{abi}");
            println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,$ORIGIN");
        }
        "macos" => {
            println!(
                "cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libhttpqq_testing.{abi}.dylib"
            );
            println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,@loader_path");
        }
        _ => {}
    }
}
