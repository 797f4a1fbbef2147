//! The Juju context parser (`juju_runtime::JujuContext::from_vars`) on a raw hook environment
//! in `/proc/<pid>/environ` form, plus the charm's model proxy settings read from it.
#![no_main]

use indico_charm_fuzz::{check_hook_environment, environ};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_hook_environment(&environ(data));
});
