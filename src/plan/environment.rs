//! The Indico environment: the typed settings indico.conf reads from `INDICO_*` variables
//! (the list at the top of `files/indico/indico.conf`), rendered exactly as it parses them
//! (booleans as `true`/`false`, structured values as JSON), plus the proxy variables.

use std::collections::BTreeMap;
use std::fmt;

use crate::config::CharmConfig;
use crate::interfaces::database::DatabaseConnection;
use crate::interfaces::redis::RedisEndpoint;
use crate::proxy::ProxySettings;
use crate::sensitive::Sensitive;

/// Everything Indico needs to run, typed. Only built when every part is available.
#[derive(Clone, PartialEq, Eq)]
pub struct IndicoEnvironment {
    /// `INDICO_SQLALCHEMY_DATABASE_URI` (holds the password).
    pub database_uri: Sensitive<String>,
    /// `INDICO_SECRET_KEY`.
    pub secret_key: Sensitive<String>,
    /// `INDICO_BASE_URL`.
    pub base_url: String,
    /// `INDICO_CELERY_BROKER`.
    pub celery_broker: String,
    /// `INDICO_REDIS_CACHE_URL`.
    pub redis_cache_url: String,
    /// `INDICO_SUPPORT_EMAIL`.
    pub support_email: String,
    /// `INDICO_PUBLIC_SUPPORT_EMAIL`.
    pub public_support_email: String,
    /// `INDICO_NO_REPLY_EMAIL`.
    pub no_reply_email: String,
    /// `INDICO_ENABLE_ROOMBOOKING`.
    pub enable_roombooking: bool,
    /// `INDICO_CUSTOMIZATION_DEBUG`.
    pub customization_debug: bool,
    /// `HTTP(S)_PROXY`/`NO_PROXY` in both spellings.
    pub proxy: ProxySettings,
    /// SMTP, S3 storage and SAML from the optional relations.
    pub relations: super::relation_data::RelationSettings,
}

impl fmt::Debug for IndicoEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndicoEnvironment")
            .field("base_url", &self.base_url)
            .field("database_uri", &self.database_uri)
            .field("secret_key", &self.secret_key)
            .field("enable_roombooking", &self.enable_roombooking)
            .field("customization_debug", &self.customization_debug)
            .finish_non_exhaustive()
    }
}

fn boolean(value: bool) -> String {
    // indico.conf accepts exactly `true` / `false`.
    if value { "true" } else { "false" }.to_owned()
}

impl IndicoEnvironment {
    /// Builds the environment from its validated parts.
    pub fn new(
        config: &CharmConfig,
        proxy: &ProxySettings,
        database: &DatabaseConnection,
        broker: &RedisEndpoint,
        cache: &RedisEndpoint,
        secret_key: &Sensitive<String>,
    ) -> Self {
        Self {
            database_uri: database.uri(),
            secret_key: secret_key.clone(),
            base_url: config.site.base_url(),
            celery_broker: broker.url(0),
            redis_cache_url: cache.url(0),
            support_email: config.support_email.as_str().to_owned(),
            public_support_email: config.public_support_email.as_str().to_owned(),
            no_reply_email: config.no_reply_email.as_str().to_owned(),
            enable_roombooking: config.enable_roombooking,
            customization_debug: config.customization_debug,
            proxy: proxy.clone(),
            relations: Default::default(),
        }
    }

    /// The variables, as a Pebble service or exec environment. Secret values are exposed here
    /// and only here: the result goes straight into a layer or an exec request.
    pub fn variables(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::from([
            (
                "INDICO_SQLALCHEMY_DATABASE_URI",
                self.database_uri.expose().clone(),
            ),
            ("INDICO_SECRET_KEY", self.secret_key.expose().clone()),
            ("INDICO_BASE_URL", self.base_url.clone()),
            ("INDICO_CELERY_BROKER", self.celery_broker.clone()),
            ("INDICO_REDIS_CACHE_URL", self.redis_cache_url.clone()),
            ("INDICO_SUPPORT_EMAIL", self.support_email.clone()),
            (
                "INDICO_PUBLIC_SUPPORT_EMAIL",
                self.public_support_email.clone(),
            ),
            ("INDICO_NO_REPLY_EMAIL", self.no_reply_email.clone()),
            (
                "INDICO_ENABLE_ROOMBOOKING",
                boolean(self.enable_roombooking),
            ),
            (
                "INDICO_CUSTOMIZATION_DEBUG",
                boolean(self.customization_debug),
            ),
        ])
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect::<BTreeMap<_, _>>();
        for (name, value) in self.proxy.environment() {
            env.insert(name.to_owned(), value);
        }
        self.relations.apply_to(&mut env);
        env
    }
}
