//! The measuring dispatch carries the real charm binary appended to itself, so that one
//! file (what the substrate installs as `dispatch`) is all the unit needs:
//! `<wrapper ELF><charm binary><8-byte magic><u64 LE length of the charm binary>`.
//! On first use the wrapper writes the charm binary next to itself as [`REAL_BINARY`].

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::BenchError;

/// Marks a wrapper that carries a payload.
const MAGIC: &[u8; 8] = b"CBPAYLD1";
/// Magic plus length.
const TRAILER_LEN: u64 = 16;
/// The extracted charm binary's name in the charm dir.
pub const REAL_BINARY: &str = ".dispatch-real";

/// Writes `wrapper` followed by `payload` and the trailer to `out` (mode 0755).
pub fn assemble(wrapper: &Path, payload: &Path, out: &Path) -> Result<(), BenchError> {
    let wrapper_bytes = std::fs::read(wrapper).map_err(|e| BenchError::io("read", wrapper, e))?;
    let payload_bytes = std::fs::read(payload).map_err(|e| BenchError::io("read", payload, e))?;
    let mut file = std::fs::File::create(out).map_err(|e| BenchError::io("create", out, e))?;
    let len = payload_bytes.len() as u64;
    for part in [
        wrapper_bytes.as_slice(),
        payload_bytes.as_slice(),
        MAGIC.as_slice(),
        &len.to_le_bytes(),
    ] {
        file.write_all(part)
            .map_err(|e| BenchError::io("write", out, e))?;
    }
    drop(file);
    std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| BenchError::io("chmod", out, e))
}

/// Reads the payload carried by `file`; `None` when it carries none.
pub fn read_payload(file: &Path) -> Result<Option<Vec<u8>>, BenchError> {
    let io = |action, e| BenchError::io(action, file, e);
    let mut f = std::fs::File::open(file).map_err(|e| io("open", e))?;
    let size = f.metadata().map_err(|e| io("stat", e))?.len();
    if size < TRAILER_LEN {
        return Ok(None);
    }
    let mut trailer = [0u8; TRAILER_LEN as usize];
    f.seek(SeekFrom::Start(size - TRAILER_LEN))
        .map_err(|e| io("seek", e))?;
    f.read_exact(&mut trailer).map_err(|e| io("read", e))?;
    if &trailer[..8] != MAGIC {
        return Ok(None);
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&trailer[8..]);
    let len = u64::from_le_bytes(len_bytes);
    if len > size - TRAILER_LEN {
        return Err(BenchError::Malformed {
            what: file.display().to_string(),
            detail: format!("payload length {len} exceeds the file ({size} bytes)"),
        });
    }
    f.seek(SeekFrom::Start(size - TRAILER_LEN - len))
        .map_err(|e| io("seek", e))?;
    let mut payload = vec![0u8; len as usize];
    f.read_exact(&mut payload).map_err(|e| io("read", e))?;
    Ok(Some(payload))
}

/// Makes sure `dir/REAL_BINARY` holds `payload` (written to a temporary name, then renamed,
/// so no run ever executes a half-written file).
pub fn install_payload(payload: &[u8], dir: &Path) -> Result<std::path::PathBuf, BenchError> {
    let target = dir.join(REAL_BINARY);
    if let Ok(existing) = std::fs::read(&target)
        && existing == payload
    {
        return Ok(target);
    }
    let tmp = dir.join(format!("{REAL_BINARY}.{}", std::process::id()));
    std::fs::write(&tmp, payload).map_err(|e| BenchError::io("write", &tmp, e))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| BenchError::io("chmod", &tmp, e))?;
    std::fs::rename(&tmp, &target).map_err(|e| BenchError::io("rename", &target, e))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_round_trips_and_a_plain_file_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let wrapper = dir.path().join("wrapper");
        let payload = dir.path().join("payload");
        std::fs::write(&wrapper, b"\x7fELF wrapper bytes").unwrap();
        std::fs::write(&payload, b"the real charm").unwrap();
        let out = dir.path().join("dispatch");
        assemble(&wrapper, &payload, &out).unwrap();
        assert_eq!(
            read_payload(&out).unwrap().as_deref(),
            Some(&b"the real charm"[..])
        );
        assert_eq!(read_payload(&wrapper).unwrap(), None);
        let installed = install_payload(b"the real charm", dir.path()).unwrap();
        assert_eq!(std::fs::read(&installed).unwrap(), b"the real charm");
        let mode = std::fs::metadata(&installed).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn a_length_beyond_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad");
        let mut bytes = b"xx".to_vec();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&1000u64.to_le_bytes());
        std::fs::write(&bad, bytes).unwrap();
        assert!(matches!(
            read_payload(&bad),
            Err(BenchError::Malformed { .. })
        ));
    }
}
