//! The one status a hook reports, computed from the whole state in the order of
//! indico-charm.md §4 (first match wins): Blocked, Waiting for a relation, Waiting for Pebble,
//! Maintenance or Waiting for migrations, and Active only once every service runs and its
//! checks pass or are still within their threshold. No message ever holds a secret.

use juju_runtime::Status;

use crate::interfaces::Availability;
use crate::migrations::MigrationDecision;
use crate::state::{SecretKeyState, State};

/// The Waiting message for a missing relation.
pub fn waiting_for(endpoint: &str) -> Status {
    Status::Waiting(format!("Waiting for {endpoint} availability"))
}

fn relation_waiting<T, E>(endpoint: &str, value: &Result<Availability<T>, E>) -> Option<Status> {
    match value {
        Ok(Availability::Ready(_)) | Err(_) => None,
        Ok(Availability::NotRelated | Availability::Pending) => Some(waiting_for(endpoint)),
    }
}

/// The status before apply: everything but the services' health. `Active` here means "Active
/// if the services are healthy", which [`after_apply`] decides.
pub fn assess(state: &State, migration: &MigrationDecision) -> Status {
    // 1. Blocked: what a human must fix.
    let blocked = [
        state.config.as_ref().err().map(ToString::to_string),
        state.proxy.as_ref().err().map(ToString::to_string),
        state.database.as_ref().err().map(ToString::to_string),
        state.redis_broker.as_ref().err().map(ToString::to_string),
        state.redis_cache.as_ref().err().map(ToString::to_string),
        state.peers.as_ref().err().map(ToString::to_string),
        state.migration.blocked.clone(),
        state.extensions.blocked.clone(),
        state.optional.s3.as_ref().err().map(ToString::to_string),
        state.optional.saml.as_ref().err().map(ToString::to_string),
        state.optional.smtp.as_ref().err().map(ToString::to_string),
        state
            .optional
            .logging
            .as_ref()
            .err()
            .map(ToString::to_string),
        state
            .optional
            .ingress_url
            .as_ref()
            .err()
            .map(ToString::to_string),
    ];
    if let Some(message) = blocked.into_iter().flatten().next() {
        return Status::Blocked(message);
    }
    // 2. Waiting for relations.
    let relations = [
        relation_waiting(
            crate::interfaces::redis::BROKER_ENDPOINT,
            &state.redis_broker,
        ),
        relation_waiting(crate::interfaces::redis::CACHE_ENDPOINT, &state.redis_cache),
        relation_waiting(crate::interfaces::database::ENDPOINT, &state.database),
    ];
    if let Some(status) = relations.into_iter().flatten().next() {
        return status;
    }
    if state.peers().is_none() {
        return Status::Waiting("Waiting for the peer relation".to_owned());
    }
    if state.secret_key == SecretKeyState::Missing {
        return Status::Waiting("Waiting for the leader to publish the secret key".to_owned());
    }
    // 3. Pebble.
    if state.containers.values().any(|c| !c.reachable) {
        return Status::Waiting("Waiting for pebble".to_owned());
    }
    // 4. Migrations.
    match migration {
        // S3 attachments out of reach is the one thing left to tell once all else is well.
        MigrationDecision::UpToDate => match crate::plan::relation_data::s3_detached_warning(state)
        {
            Some(warning) => Status::ActiveWithMessage(warning),
            None => Status::Active,
        },
        MigrationDecision::WaitForLeader => {
            Status::Waiting("Waiting for database migrations".to_owned())
        }
        MigrationDecision::Run { .. } => {
            Status::Maintenance("Database migrations pending".to_owned())
        }
        MigrationDecision::NotReady => {
            Status::Waiting("Waiting for the Indico version of the image".to_owned())
        }
    }
}

/// How the services looked after apply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// Services that are not running.
    pub not_running: Vec<String>,
    /// Checks that are down (failures reached their threshold).
    pub failing_checks: Vec<String>,
}

/// The final status: `planned` unless it is Active and a service or check is not healthy.
pub fn after_apply(planned: Status, health: &Health) -> Status {
    if !planned.is_active() {
        return planned;
    }
    if !health.not_running.is_empty() {
        return Status::Waiting(format!(
            "Waiting for services to start: {}",
            health.not_running.join(", ")
        ));
    }
    if !health.failing_checks.is_empty() {
        return Status::Waiting(format!(
            "Health checks failing: {}",
            health.failing_checks.join(", ")
        ));
    }
    planned
}

/// The final status of a unit whose plan was Active, once the related backends were probed:
/// when a database or Redis server did not accept a connection, the status is Waiting naming
/// each such relation (e.g. `Waiting for database: 10.0.0.5:5432 does not accept
/// connections`), also in place of a health Waiting, since a backend that is down is the
/// likelier cause of failing services or checks. Blocked stays Blocked; with every backend
/// reachable `status` stays as it is. When the server is back, the next hook (update-status
/// at the latest) reports Active again.
pub fn with_backends(status: Status, down: &[crate::gather::UnreachableBackend]) -> Status {
    if matches!(status, Status::Blocked(_)) || down.is_empty() {
        return status;
    }
    let endpoints: Vec<&str> = down.iter().map(|b| b.endpoint).collect();
    let addresses: Vec<&str> = down.iter().map(|b| b.address.as_str()).collect();
    Status::Waiting(format!(
        "Waiting for {}: {} {} not accept connections",
        endpoints.join(", "),
        addresses.join(", "),
        if down.len() == 1 { "does" } else { "do" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::UnreachableBackend;

    fn down(endpoint: &'static str, address: &str) -> UnreachableBackend {
        UnreachableBackend {
            endpoint,
            address: address.to_owned(),
        }
    }

    #[test]
    fn an_unreachable_backend_turns_active_into_waiting_naming_the_relation() {
        for active in [Status::Active, Status::ActiveWithMessage("note".into())] {
            assert_eq!(
                with_backends(active, &[down("database", "10.0.0.5:5432")]),
                Status::Waiting(
                    "Waiting for database: 10.0.0.5:5432 does not accept connections".into()
                )
            );
        }
        assert_eq!(
            with_backends(
                Status::Active,
                &[
                    down("redis-broker", "10.0.0.6:6379"),
                    down("database", "10.0.0.5:5432")
                ]
            ),
            Status::Waiting(
                "Waiting for redis-broker, database: 10.0.0.6:6379, 10.0.0.5:5432 do not accept connections"
                    .into()
            )
        );
    }

    #[test]
    fn a_down_backend_replaces_a_health_waiting_but_not_blocked() {
        let health = Status::Waiting("Health checks failing: indico-celery-alive".into());
        assert_eq!(
            with_backends(health.clone(), &[down("redis-broker", "b:6379")]),
            Status::Waiting("Waiting for redis-broker: b:6379 does not accept connections".into())
        );
        assert_eq!(with_backends(health.clone(), &[]), health);
        assert_eq!(with_backends(Status::Active, &[]), Status::Active);
        let blocked = Status::Blocked("Configuration option site_url is not valid".into());
        assert_eq!(
            with_backends(blocked.clone(), &[down("database", "db:5432")]),
            blocked
        );
    }

    #[test]
    fn a_healthy_pod_keeps_the_planned_active_message() {
        let planned = Status::ActiveWithMessage("s3 relation removed".into());
        assert_eq!(after_apply(planned.clone(), &Health::default()), planned);
    }

    #[test]
    fn an_unhealthy_pod_turns_any_active_status_into_waiting() {
        let health = Health {
            not_running: vec!["indico".into()],
            failing_checks: vec![],
        };
        for planned in [Status::Active, Status::ActiveWithMessage("note".into())] {
            assert_eq!(
                after_apply(planned, &health),
                Status::Waiting("Waiting for services to start: indico".into())
            );
        }
    }

    #[test]
    fn a_blocked_status_is_never_overridden_by_health() {
        let planned = Status::Blocked("Configuration option site_url is not valid".into());
        let health = Health {
            not_running: vec!["indico".into()],
            failing_checks: vec!["indico-ready".into()],
        };
        assert_eq!(after_apply(planned.clone(), &health), planned);
    }
}
