//! One unit's hook queue: pending hooks in order, the failed hook waiting for its retry,
//! and the update-status timer. Hooks for one unit never overlap: a single agent thread
//! takes them one at a time. While a hook is in error nothing else runs except actions,
//! as in Juju.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::hook::{Hook, HookKind};

/// A failed hook waiting to be retried.
#[derive(Debug, Clone)]
pub struct Failed {
    /// The hook.
    pub hook: Hook,
    /// How many times it failed.
    pub attempts: u32,
    /// When to retry it.
    pub due: Instant,
}

#[derive(Debug)]
struct State {
    hooks: VecDeque<Hook>,
    failed: Option<Failed>,
    stop: bool,
    busy: bool,
    next_update_status: Option<Instant>,
}

/// What the agent thread should do next.
#[derive(Debug)]
pub enum Next {
    /// Run this hook; `retry` says it is a retry of a failed one.
    Run {
        /// The hook.
        hook: Box<Hook>,
        /// Attempts so far when it is a retry.
        retry: Option<u32>,
    },
    /// Stop the agent.
    Stop,
}

/// A unit's queue, shared by the agent thread and whoever enqueues.
#[derive(Debug)]
pub struct HookQueue {
    state: Mutex<State>,
    wake: Condvar,
}

impl Default for HookQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl HookQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                hooks: VecDeque::new(),
                failed: None,
                stop: false,
                busy: false,
                next_update_status: None,
            }),
            wake: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned queue means an agent thread panicked; keep serving the data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends `hook` unless the same hook is already waiting (Juju coalesces them).
    pub fn push(&self, hook: Hook) {
        let mut state = self.lock();
        if hook.kind != HookKind::Action && state.hooks.contains(&hook) {
            return;
        }
        state.hooks.push_back(hook);
        self.wake.notify_all();
    }

    /// Records that `hook` failed; it is retried after `delay`.
    pub fn fail(&self, hook: Hook, attempts: u32, delay: Duration) {
        let mut state = self.lock();
        state.failed = Some(Failed {
            hook,
            attempts,
            due: Instant::now() + delay,
        });
        self.wake.notify_all();
    }

    /// Clears the failed hook (it succeeded on retry).
    pub fn resolve(&self) {
        self.lock().failed = None;
    }

    /// Whether a hook failed and waits for its retry.
    pub fn in_error(&self) -> bool {
        self.lock().failed.is_some()
    }

    /// Arms the update-status timer.
    pub fn schedule_update_status(&self, after: Duration) {
        let mut state = self.lock();
        state.next_update_status = Some(Instant::now() + after);
        self.wake.notify_all();
    }

    /// Asks the agent to stop after the running hook.
    pub fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_all();
    }

    /// Whether nothing is queued, running or waiting for a retry.
    pub fn is_idle(&self) -> bool {
        let state = self.lock();
        state.hooks.is_empty() && state.failed.is_none() && !state.busy
    }

    /// Whether a hook for relation `id` is queued or running.
    pub fn has_relation_work(&self, id: u64) -> bool {
        let state = self.lock();
        let about = |h: &Hook| h.relation.as_ref().is_some_and(|r| r.id == id);
        state.hooks.iter().any(about) || state.failed.as_ref().is_some_and(|f| about(&f.hook))
    }

    /// Marks the running hook finished.
    pub fn done(&self) {
        self.lock().busy = false;
        self.wake.notify_all();
    }

    /// Blocks until there is something to do.
    pub fn next(&self, update_status_every: Duration) -> Next {
        let mut state = self.lock();
        loop {
            if state.stop {
                return Next::Stop;
            }
            let now = Instant::now();
            if let Some((due, hook, attempts)) = state
                .failed
                .as_ref()
                .map(|f| (f.due, f.hook.clone(), f.attempts))
            {
                let action = state.hooks.iter().position(|h| h.kind == HookKind::Action);
                if let Some(hook) = action.and_then(|i| state.hooks.remove(i)) {
                    state.busy = true;
                    return Next::Run {
                        hook: Box::new(hook),
                        retry: None,
                    };
                }
                if now >= due {
                    state.busy = true;
                    return Next::Run {
                        hook: Box::new(hook),
                        retry: Some(attempts),
                    };
                }
                let wait = due - now;
                state = self
                    .wake
                    .wait_timeout(state, wait)
                    .map(|(s, _)| s)
                    .unwrap_or_else(|p| p.into_inner().0);
                continue;
            }
            if let Some(hook) = state.hooks.pop_front() {
                state.busy = true;
                return Next::Run {
                    hook: Box::new(hook),
                    retry: None,
                };
            }
            match state.next_update_status {
                Some(due) if now >= due => {
                    state.next_update_status = Some(now + update_status_every);
                    state.busy = true;
                    return Next::Run {
                        hook: Box::new(Hook::plain(HookKind::UpdateStatus)),
                        retry: None,
                    };
                }
                Some(due) => {
                    state = self
                        .wake
                        .wait_timeout(state, due - now)
                        .map(|(s, _)| s)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                None => {
                    state = self.wake.wait(state).unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_hook_blocks_others_but_not_actions_until_due() {
        let q = HookQueue::new();
        q.push(Hook::plain(HookKind::Install));
        q.push(Hook::plain(HookKind::ConfigChanged));
        q.push(Hook::plain(HookKind::ConfigChanged));
        let Next::Run { hook, .. } = q.next(Duration::from_secs(60)) else {
            panic!()
        };
        assert_eq!(hook.kind, HookKind::Install);
        q.fail(*hook, 1, Duration::from_millis(80));
        q.push(Hook::action(1, "go"));
        let Next::Run { hook, retry } = q.next(Duration::from_secs(60)) else {
            panic!()
        };
        assert_eq!((hook.kind, retry), (HookKind::Action, None));
        let Next::Run { hook, retry } = q.next(Duration::from_secs(60)) else {
            panic!()
        };
        assert_eq!((hook.kind, retry), (HookKind::Install, Some(1)));
        q.resolve();
        let Next::Run { hook, .. } = q.next(Duration::from_secs(60)) else {
            panic!()
        };
        assert_eq!(
            hook.kind,
            HookKind::ConfigChanged,
            "duplicates were coalesced"
        );
        q.done();
        q.schedule_update_status(Duration::from_millis(10));
        let Next::Run { hook, .. } = q.next(Duration::from_secs(60)) else {
            panic!()
        };
        assert_eq!(hook.kind, HookKind::UpdateStatus);
        q.stop();
        assert!(matches!(q.next(Duration::from_secs(60)), Next::Stop));
    }
}
