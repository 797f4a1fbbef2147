//! The Juju context parser on hook environments built from structured input (`arbitrary`):
//! consistent dispatch path and hook name for every event kind, then variables overridden
//! or removed one at a time.
#![no_main]

use indico_charm_fuzz::check_hook_environment;
use indico_charm_fuzz::structured_env::HookEnv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|env: HookEnv| {
    check_hook_environment(&env.vars());
});
