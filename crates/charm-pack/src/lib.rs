//! Packing the Indico charm: the files Juju reads (`metadata.yaml`, `config.yaml`,
//! `actions.yaml`, a generated `manifest.yaml`), the release binary as `dispatch` (0755),
//! the icon and the README, zipped into `indico_ubuntu-24.04-amd64.charm`.
//!
//! Every rule Juju applies to a charm archive (juju-contract §3) is checked in [`rules`]
//! before anything is written, and the same checks run on an archive read back by the tests.
//!
//! ```text
//! release_build  cargo build --release --locked --bin indico-charm -> the binary's path
//! contents       repository + binary -> CharmContents (archive path, mode, bytes)
//! manifest       the generated manifest.yaml (base ubuntu 24.04, amd64, analysis)
//! rules          CharmContents -> Ok or every broken rule, named
//! elf            the dispatch binary's machine and highest GLIBC version need
//! archive        CharmContents <-> the zip; unpacking to a charm directory
//! pack           all of the above in order: the one call the command makes
//! ```

pub mod archive;
pub mod contents;
pub mod elf;
pub mod error;
pub mod manifest;
pub mod pack;
pub mod release_build;
pub mod rules;

pub use contents::{CharmContents, Entry};
pub use error::PackError;
pub use pack::{Packed, pack};
pub use rules::{RuleViolation, Violations};
