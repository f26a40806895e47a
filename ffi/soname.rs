// The part of the version a shared library's name carries, shared by the
// build scripts of libhttpqq (ffi/build.rs) and libhttpqq_testing
// (ffi/testing/build.rs) through `include!`: in 0.x every minor version
// may break the ABI, so the soname carries it (`libhttpqq.so.0.3`); from
// 1.0 on, only a major one does (`libhttpqq.so.1`). packaging/version.sh
// gives the packaging scripts the same rule.

/// `0.3` for 0.3.x, `1` for 1.x, from the package's version.
fn abi_version() -> String {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    if major == "0" {
        format!("0.{minor}")
    } else {
        major
    }
}
