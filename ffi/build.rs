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
        // The DLL's own name, which GNU ld writes into whatever links
        // against it directly, is the file's: httpqq.dll, not Cargo's
        // httpqq_ffi.dll (ld merges this module definition with the one
        // rustc gives it for the exports).
        Ok("windows") => {
            let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
            let def = out.join("httpqq-name.def");
            std::fs::write(&def, "LIBRARY httpqq.dll\n").expect("writing the module definition");
            println!("cargo:rustc-cdylib-link-arg={}", def.display());
        }
        _ => {}
    }
    println!("cargo:rerun-if-changed=build.rs");
}
