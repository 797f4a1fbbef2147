//! Relations: one end (peers) or two, and their databags: one per application and one
//! per unit, holding string keys and values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A relation databag.
pub type Bag = BTreeMap<String, String>;

/// One end of a relation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationEnd {
    /// The application.
    pub application: String,
    /// Its endpoint.
    pub endpoint: String,
    /// The interface.
    pub interface: String,
}

/// A relation between two applications, or a peer relation of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// The id (`<endpoint>:<id>` to the charm).
    pub id: u64,
    /// The ends: one for a peer relation, two otherwise.
    pub ends: Vec<RelationEnd>,
    /// Application databags by application name.
    #[serde(default)]
    pub app_bags: BTreeMap<String, Bag>,
    /// Unit databags by unit name.
    #[serde(default)]
    pub unit_bags: BTreeMap<String, Bag>,
    /// Set once `remove-relation` started: hooks see it as broken.
    #[serde(default)]
    pub dying: bool,
}

impl Relation {
    /// A new relation with empty bags.
    pub fn new(id: u64, ends: Vec<RelationEnd>) -> Self {
        Self {
            id,
            ends,
            app_bags: BTreeMap::new(),
            unit_bags: BTreeMap::new(),
            dying: false,
        }
    }

    /// Whether this is a peer relation.
    pub fn is_peer(&self) -> bool {
        self.ends.len() == 1
    }

    /// Whether `app:endpoint` is one of the ends.
    pub fn has_end(&self, app: &str, endpoint: &str) -> bool {
        self.ends
            .iter()
            .any(|e| e.application == app && e.endpoint == endpoint)
    }

    /// Whether `app` takes part.
    pub fn involves(&self, app: &str) -> bool {
        self.ends.iter().any(|e| e.application == app)
    }

    /// `app`'s end, if it takes part.
    pub fn end_of(&self, app: &str) -> Option<&RelationEnd> {
        self.ends.iter().find(|e| e.application == app)
    }

    /// The application at the other end from `app` (`app` itself for peers).
    pub fn remote_app(&self, app: &str) -> Option<&str> {
        if self.is_peer() {
            return self.ends.first().map(|e| e.application.as_str());
        }
        self.ends
            .iter()
            .find(|e| e.application != app)
            .map(|e| e.application.as_str())
    }

    /// `<endpoint>:<id>` as seen from `app`.
    pub fn key_for(&self, app: &str) -> Option<String> {
        self.end_of(app)
            .map(|e| format!("{}:{}", e.endpoint, self.id))
    }
}
