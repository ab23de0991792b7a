//! The library's version, at compile time (header macros) and at run time (`sel_version`).
//!
//! cbindgen copies only literal constants into the header, so the numbers are written here and
//! a test keeps them equal to Cargo.toml's version.

/// The major version: an incompatible change of the API or ABI raises it (and the soname).
pub const SEL_VERSION_MAJOR: u32 = 0;
/// The minor version: additions that keep the ABI.
pub const SEL_VERSION_MINOR: u32 = 1;
/// The patch version: fixes.
pub const SEL_VERSION_PATCH: u32 = 0;

/// The version as one number, `major << 16 | minor << 8 | patch`, as `sel_version` returns it.
pub fn packed() -> u32 {
    SEL_VERSION_MAJOR << 16 | SEL_VERSION_MINOR << 8 | SEL_VERSION_PATCH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_cargo_toml() {
        let number = |part: &str| part.parse::<u32>().unwrap();
        assert_eq!(SEL_VERSION_MAJOR, number(env!("CARGO_PKG_VERSION_MAJOR")));
        assert_eq!(SEL_VERSION_MINOR, number(env!("CARGO_PKG_VERSION_MINOR")));
        assert_eq!(SEL_VERSION_PATCH, number(env!("CARGO_PKG_VERSION_PATCH")));
    }

    #[test]
    fn packs_in_bytes() {
        assert_eq!(packed() >> 16, SEL_VERSION_MAJOR);
        assert_eq!(packed() >> 8 & 0xff, SEL_VERSION_MINOR);
        assert_eq!(packed() & 0xff, SEL_VERSION_PATCH);
    }
}
