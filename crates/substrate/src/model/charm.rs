//! A charm's declared surface as Juju reads it. The parser is shared with the charm's
//! test harness (`juju_runtime::charm_spec`), so both agree on what a charm declares;
//! this module names it the way the model uses it and turns its errors into
//! [`ModelError`]s.

pub use juju_runtime::charm_spec::{
    ActionSpec, CharmSpec as CharmMeta, ConfigOption, Endpoint, OptionType, Role,
};
use juju_runtime::charm_spec::{InputError, SpecError};

use super::ModelError;

impl From<SpecError> for ModelError {
    fn from(err: SpecError) -> Self {
        match err {
            SpecError::Read { path, source } => ModelError::Io {
                action: "read",
                path,
                source,
            },
            SpecError::Invalid { file, detail } => ModelError::InvalidCharm { file, detail },
        }
    }
}

impl From<InputError> for ModelError {
    fn from(err: InputError) -> Self {
        match err {
            InputError::ConfigValue {
                key,
                expected,
                value,
            } => ModelError::InvalidConfigValue {
                key,
                expected,
                value,
            },
            InputError::UnknownAction { charm, action } => {
                ModelError::UnknownAction { charm, action }
            }
            InputError::ActionParams { action, detail } => {
                ModelError::InvalidActionParams { action, detail }
            }
        }
    }
}

/// Lifts a charm-spec error into a layer whose errors wrap [`ModelError`], so `?` works
/// there as it does in the model.
macro_rules! through_model_error {
    ($($error:ty => $target:ty),* $(,)?) => {$(
        impl From<$error> for $target {
            fn from(err: $error) -> Self {
                ModelError::from(err).into()
            }
        }
    )*};
}

through_model_error! {
    SpecError => crate::agent::AgentError,
    InputError => crate::agent::AgentError,
    SpecError => crate::cli::CliError,
    InputError => crate::cli::CliError,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const META: &str = "name: app\nactions: {}\n";

    #[test]
    fn charm_errors_become_model_errors_that_name_the_file() {
        let err: ModelError = CharmMeta::parse(META, Some("options: {x: {type: list}}"), None)
            .unwrap_err()
            .into();
        assert!(matches!(
            err,
            ModelError::InvalidCharm {
                file: "config.yaml",
                ..
            }
        ));
        let err: ModelError = CharmMeta::load(std::path::Path::new("/nonexistent"))
            .unwrap_err()
            .into();
        assert!(
            matches!(err, ModelError::Io { action: "read", .. }),
            "{err}"
        );
    }

    #[test]
    fn user_input_errors_become_the_model_errors_the_cli_prints() {
        let meta =
            CharmMeta::parse(META, None, Some("go: {params: {n: {type: integer}}}")).unwrap();
        let given = BTreeMap::from([("n".to_owned(), "x".to_owned())]);
        let err: ModelError = meta.validate_action("go", &given).unwrap_err().into();
        assert!(
            matches!(err, ModelError::InvalidActionParams { .. }),
            "{err}"
        );
        let err: ModelError = meta.validate_action("stop", &given).unwrap_err().into();
        assert!(matches!(err, ModelError::UnknownAction { .. }), "{err}");
        let err: ModelError = OptionType::Int.parse_value("p", "x").unwrap_err().into();
        assert!(
            matches!(
                err,
                ModelError::InvalidConfigValue {
                    expected: "int",
                    ..
                }
            ),
            "{err}"
        );
    }
}
