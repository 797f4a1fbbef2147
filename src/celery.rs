//! Celery beat on exactly one unit: the leader picks the unit (`celery-unit` in peer app data)
//! and reassigns it when that unit leaves; every other unit runs workers without beat.

use std::collections::BTreeSet;

use crate::interfaces::compare_unit_names;

/// The unit that should run Celery beat: the current choice while it is still a member of the
/// application and not departing, else the lowest-numbered live unit.
///
/// `this_unit` and `other_units` are the live units (peer `relation-list` excludes departed
/// ones); `departing` is the unit named by `JUJU_DEPARTING_UNIT` in this hook.
pub fn choose_beat_unit(
    current: Option<&str>,
    this_unit: &str,
    other_units: &BTreeSet<String>,
    departing: Option<&str>,
) -> String {
    let live =
        |unit: &str| Some(unit) != departing && (unit == this_unit || other_units.contains(unit));
    if let Some(current) = current.filter(|c| live(c)) {
        return current.to_owned();
    }
    std::iter::once(this_unit)
        .chain(other_units.iter().map(String::as_str))
        .filter(|u| live(u))
        .min_by(|a, b| compare_unit_names(a, b))
        // `this_unit` is live unless it is itself departing; then it keeps beat until it goes.
        .unwrap_or(this_unit)
        .to_owned()
}

/// Whether this unit runs beat, given the published choice.
pub fn runs_beat(published: Option<&str>, this_unit: &str) -> bool {
    published == Some(this_unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn a_live_choice_is_kept() {
        let chosen = choose_beat_unit(Some("indico/2"), "indico/0", &units(&["indico/2"]), None);
        assert_eq!(chosen, "indico/2");
    }

    #[test]
    fn first_choice_is_the_lowest_numbered_unit() {
        let chosen = choose_beat_unit(None, "indico/10", &units(&["indico/9", "indico/11"]), None);
        assert_eq!(chosen, "indico/9");
    }

    #[test]
    fn a_departed_or_departing_unit_loses_beat() {
        // indico/1 has gone: relation-list no longer lists it.
        let chosen = choose_beat_unit(Some("indico/1"), "indico/0", &units(&["indico/2"]), None);
        assert_eq!(chosen, "indico/0");
        // indico/0 is leaving in this very hook.
        let chosen = choose_beat_unit(
            Some("indico/0"),
            "indico/0",
            &units(&["indico/3", "indico/2"]),
            Some("indico/0"),
        );
        assert_eq!(chosen, "indico/2");
    }

    #[test]
    fn only_the_chosen_unit_runs_beat() {
        assert!(runs_beat(Some("indico/1"), "indico/1"));
        assert!(!runs_beat(Some("indico/1"), "indico/0"));
        assert!(!runs_beat(None, "indico/0"));
    }
}
