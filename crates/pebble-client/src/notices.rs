//! Notices (`GET /v1/notices`, `GET /v1/notices/{id}`), which back Juju's
//! `<container>-pebble-custom-notice` and check events.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;

use crate::changes::path_segment;
use crate::client::Client;
use crate::duration::GoDuration;
use crate::error::Error;

/// A notice.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Notice {
    /// Notice id (a decimal string).
    pub id: String,
    /// Owner UID; `None` for public notices.
    #[serde(default)]
    pub user_id: Option<u32>,
    /// Notice type.
    #[serde(rename = "type")]
    pub notice_type: NoticeType,
    /// `example.com/path` for custom notices, the change id for change-update.
    pub key: String,
    /// First occurrence (RFC 3339).
    pub first_occurred: String,
    /// Last occurrence (RFC 3339).
    pub last_occurred: String,
    /// Last time it repeated (RFC 3339); `after` filters on this.
    pub last_repeated: String,
    /// Number of occurrences.
    pub occurrences: u64,
    /// Data of the last occurrence.
    #[serde(default)]
    pub last_data: BTreeMap<String, String>,
    /// Minimum time between repeats (Go duration text), if set.
    #[serde(default)]
    pub repeat_after: Option<String>,
    /// Expiry after the last occurrence (Go duration text), if set.
    #[serde(default)]
    pub expire_after: Option<String>,
}

/// The type of a notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeType {
    /// Added by `pebble notify` or `POST /v1/notices`.
    Custom,
    /// A change changed status.
    ChangeUpdate,
    /// A Pebble warning.
    Warning,
    /// A type this client does not know (a newer Pebble).
    #[serde(other)]
    Unknown,
}

impl NoticeType {
    /// The wire value, `None` for [`NoticeType::Unknown`].
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Self::Custom => Some("custom"),
            Self::ChangeUpdate => Some("change-update"),
            Self::Warning => Some("warning"),
            Self::Unknown => None,
        }
    }
}

/// Filters of `GET /v1/notices`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoticesQuery {
    /// Only these types (empty: all).
    pub types: Vec<NoticeType>,
    /// Only these keys (empty: all).
    pub keys: Vec<String>,
    /// Only notices that repeated strictly after this RFC 3339 time.
    pub after: Option<String>,
    /// Include every user's notices (`users=all`, admin only), as Juju does.
    pub all_users: bool,
    /// Long-poll: wait up to this long for a matching notice.
    pub timeout: Option<Duration>,
}

/// Time a long-poll request gets on top of its server-side timeout.
const LONG_POLL_GRACE: Duration = Duration::from_secs(5);

impl Client {
    /// `GET /v1/notices`, sorted by last repeat; with `query.timeout`, waits (long-poll) up to
    /// that long for a matching notice and returns an empty list if none came.
    pub async fn notices(&self, query: &NoticesQuery) -> Result<Vec<Notice>, Error> {
        let what = "GET /v1/notices";
        let mut request = self.request(Method::GET, "/v1/notices");
        let types: Vec<&str> = query.types.iter().filter_map(|t| t.as_str()).collect();
        if !types.is_empty() {
            request = request.query(&[("types", types.join(","))]);
        }
        if !query.keys.is_empty() {
            request = request.query(&[("keys", query.keys.join(","))]);
        }
        if let Some(after) = &query.after {
            request = request.query(&[("after", after)]);
        }
        if query.all_users {
            request = request.query(&[("users", "all")]);
        }
        let mut within = self.request_timeout();
        if let Some(timeout) = query.timeout {
            request = request.query(&[("timeout", GoDuration::from(timeout).to_string())]);
            within = timeout + LONG_POLL_GRACE;
        }
        let notices: Option<Vec<Notice>> = self.call_within(what, request, within).await?;
        Ok(notices.unwrap_or_default())
    }

    /// `GET /v1/notices/{id}` (what `JUJU_NOTICE_ID` names).
    pub async fn notice(&self, id: &str) -> Result<Notice, Error> {
        let what = format!("GET /v1/notices/{id}");
        let path = format!("/v1/notices/{}", path_segment(id)?);
        self.call(&what, self.request(Method::GET, &path)).await
    }
}
