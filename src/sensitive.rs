//! `Sensitive<T>`: a value that must never reach a log, a status message or `Debug` output
//! (passwords, the secret key, URIs that embed a password).

use std::fmt;

/// Wraps a secret value. `Debug` prints `<redacted>`; there is deliberately no `Display`, so
/// the value only leaves through [`Sensitive::expose`], where the call site says why.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret value itself, for the one place that must use it (a layer environment,
    /// a secret-set payload, a connection URI).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Sensitive::new(String::from("hunter2"));
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(secret.expose(), "hunter2");
    }
}
