//! Long-lived processes the substrate starts (the controller, PostgreSQL, Redis) must not
//! keep descriptors they inherited by accident. Rust opens its own files close-on-exec,
//! but whoever ran the substrate may not have: a `flock LOCK cmd` wrapper, a CI runner's
//! pipe. A server holding such a descriptor keeps a lock taken or a pipe open long after
//! the command that started it has finished.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes `command` close every descriptor above stderr just before it executes.
pub(crate) fn close_inherited_fds(command: &mut Command) -> &mut Command {
    // SAFETY: the closure runs in the child between fork and exec and makes a single
    // async-signal-safe system call; it touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            // close_range(2) (Linux 5.9, glibc 2.34). Failure leaves the descriptors open,
            // which is what happened before: not a reason to refuse starting the server.
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// A descriptor the parent leaks on purpose (no close-on-exec) is open in a plain
    /// child and closed in one started through `close_inherited_fds`.
    #[test]
    fn inherited_descriptors_are_closed_in_the_child() {
        let file = tempfile::tempfile().expect("tempfile");
        let fd = file.as_raw_fd();
        // SAFETY: fd is a valid descriptor owned by `file` for the whole test.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            assert!(flags >= 0);
            assert_eq!(libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC), 0);
        }
        let probe = format!("test -e /proc/self/fd/{fd}");
        let plain = Command::new("sh")
            .args(["-c", &probe])
            .status()
            .expect("sh");
        assert!(
            plain.success(),
            "the leaked descriptor reaches a plain child"
        );
        let closed = close_inherited_fds(Command::new("sh").args(["-c", &probe]))
            .status()
            .expect("sh");
        assert!(!closed.success(), "the descriptor is closed before exec");
    }
}
