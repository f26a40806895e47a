//! Gives the shared library its soname (its install name on macOS), so that
//! programs linked against the installed `libhttpqq.so` load the
//! ABI-compatible version: `libhttpqq.so.0.3` in 0.x, where every minor
//! version may break the ABI; from 1.0 on, `libhttpqq.so.1` (the rule is
//! in soname.rs, shared with libhttpqq_testing's build script).

include!("soname.rs");

fn main() {
    let abi = abi_version();
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
    println!("cargo:rerun-if-changed=soname.rs");
}
