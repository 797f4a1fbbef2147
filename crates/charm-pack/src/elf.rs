//! What the dispatch binary needs from the machine it runs on: its CPU architecture and
//! the highest `GLIBC_x.y` symbol version it references (from `.gnu.version_r`). A binary
//! built on Debian 12 (glibc 2.36) runs on Ubuntu 24.04 (2.39); one built on a newer
//! distribution may not.

use std::fmt;

use object::Endianness;
use object::elf;
use object::read::elf::{ElfFile64, FileHeader};

/// A glibc symbol version such as `GLIBC_2.34` (patch is 0 when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GlibcVersion {
    /// Major version (2).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version, rarely used in symbol versions (`GLIBC_2.2.5`).
    pub patch: u32,
}

impl GlibcVersion {
    /// Parses a version need name: `GLIBC_2.34` -> 2.34; anything else (`GLIBC_PRIVATE`,
    /// `GCC_3.0`) -> `None`.
    pub fn from_need(name: &str) -> Option<Self> {
        let numbers = name.strip_prefix("GLIBC_")?;
        let mut parts = numbers.split('.').map(str::parse::<u32>);
        let major = parts.next()?.ok()?;
        let minor = parts.next().transpose().ok()?.unwrap_or(0);
        let patch = parts.next().transpose().ok()?.unwrap_or(0);
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// The facts about an ELF executable that decide where it can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFacts {
    /// `e_machine`, e.g. [`object::elf::EM_X86_64`].
    pub machine: u16,
    /// The highest `GLIBC_x.y` version needed; `None` for a binary that needs none
    /// (static, musl).
    pub max_glibc: Option<GlibcVersion>,
    /// Every version need name, e.g. `GLIBC_2.34` or `GLIBC_PRIVATE`, sorted.
    pub version_needs: Vec<String>,
}

impl ElfFacts {
    /// The Juju architecture name of `machine` (`amd64`, `arm64` ...), if it is one.
    pub fn juju_architecture(&self) -> Option<&'static str> {
        match self.machine {
            elf::EM_X86_64 => Some("amd64"),
            elf::EM_AARCH64 => Some("arm64"),
            elf::EM_PPC64 => Some("ppc64el"),
            elf::EM_S390 => Some("s390x"),
            elf::EM_RISCV => Some("riscv64"),
            _ => None,
        }
    }
}

/// Why an executable could not be read as a 64-bit ELF file.
#[derive(Debug, thiserror::Error)]
#[error("not a readable 64-bit ELF executable: {0}")]
pub struct ElfError(#[from] object::read::Error);

/// True when `data` starts with the ELF magic bytes.
pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(&elf::ELFMAG)
}

/// Reads the machine and the glibc version needs of the 64-bit ELF file in `data`.
pub fn inspect(data: &[u8]) -> Result<ElfFacts, ElfError> {
    let file = ElfFile64::<Endianness>::parse(data)?;
    let endian = file.endian();
    let machine = file.elf_header().e_machine(endian);
    let sections = file.elf_section_table();
    let mut version_needs = Vec::new();
    if let Some((mut needs, link)) = sections.gnu_verneed(endian, data)? {
        let strings = sections.strings(endian, data, link)?;
        while let Some((_need, mut auxiliaries)) = needs.next()? {
            while let Some(auxiliary) = auxiliaries.next()? {
                let name = auxiliary.name(endian, strings)?;
                version_needs.push(String::from_utf8_lossy(name).into_owned());
            }
        }
    }
    version_needs.sort();
    version_needs.dedup();
    let max_glibc = version_needs
        .iter()
        .filter_map(|name| GlibcVersion::from_need(name))
        .max();
    Ok(ElfFacts {
        machine,
        max_glibc,
        version_needs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_glibc_version_needs() {
        let v = |s| GlibcVersion::from_need(s);
        assert_eq!(v("GLIBC_2.34").map(|g| g.to_string()), Some("2.34".into()));
        assert_eq!(
            v("GLIBC_2.2.5").map(|g| g.to_string()),
            Some("2.2.5".into())
        );
        assert_eq!(v("GLIBC_PRIVATE"), None);
        assert_eq!(v("GCC_3.0"), None);
        assert!(
            v("GLIBC_2.39") > v("GLIBC_2.4"),
            "numeric, not lexical order"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(!is_elf(b"#!/bin/sh\n"));
        let err = inspect(b"\x7fELF\x02\x01\x01 truncated").unwrap_err();
        assert!(err.to_string().contains("ELF"), "{err}");
    }
}
