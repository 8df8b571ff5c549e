//! The passwords leaked in data breaches that validation.rs refuses
//! (`breached-passwords.txt`, written by `scripts/breached_passwords.py`): found by binary
//! search in the text the binary embeds, so the list costs no start-up work and no heap.

use std::cmp::Ordering;

/// A header, an empty line, then one normalized password a line, sorted by bytes.
const FILE: &str = include_str!("breached-passwords.txt");

/// The sorted lines, each ending in `\n`.
fn listed() -> &'static str {
    FILE.split_once("\n\n").map_or("", |(_header, list)| list)
}

/// Whether `password`, normalized as the list is (NFKC, lower-cased), is on it.
pub fn is_listed(password: &str) -> bool {
    let list = listed().as_bytes();
    let wanted = password.as_bytes();
    // `low` and `high` are always where a line starts, or the end of the list.
    let (mut low, mut high) = (0, list.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let start = list[low..middle]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(low, |newline| low + newline + 1);
        let end = list[start..high]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(high, |newline| start + newline);
        match list[start..end].cmp(wanted) {
            Ordering::Equal => return true,
            Ordering::Less => low = end + 1,
            Ordering::Greater => high = start,
        }
    }
    false
}

/// Every listed password, in order.
#[cfg(test)]
pub fn all() -> std::str::Lines<'static> {
    listed().lines()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use unicode_normalization::UnicodeNormalization;

    fn lines() -> Vec<&'static str> {
        all().collect()
    }

    #[test]
    fn the_list_is_sorted_normalized_and_whole() {
        let (header, list) = FILE.split_once("\n\n").unwrap();
        assert!(
            header.lines().all(|line| line.starts_with("# ")),
            "{header}"
        );
        assert!(list.ends_with('\n'));
        let lines = lines();
        assert_eq!(lines.len(), 75_496, "the count docs/security.md gives");
        assert!(
            lines.windows(2).all(|pair| pair[0] < pair[1]),
            "sorted, once"
        );
        for line in &lines {
            let normalized: String = line.nfkc().collect::<String>().to_lowercase();
            assert_eq!(*line, normalized);
            assert!(line.chars().count() >= 8, "{line}");
        }
    }

    #[test]
    fn every_minimum_length_has_more_than_3000_listed_passwords_that_meet_it() {
        let lines = lines();
        let meeting = |min: usize| lines.iter().filter(|l| l.chars().count() >= min).count();
        // ASVS 6.2.4: at least 3 000 that match the policy, for every allowed minimum.
        assert_eq!(meeting(15), 9_728, "the count docs/security.md gives");
        for min in 8..=15 {
            assert!(meeting(min) >= 3_000, "{min}: {}", meeting(min));
        }
    }

    #[test]
    fn every_listed_password_is_found_and_nothing_else() {
        let lines = lines();
        assert!(lines.iter().all(|line| is_listed(line)));
        let set: HashSet<&str> = lines.iter().copied().collect();
        for line in lines.iter().step_by(37) {
            let last = line.chars().last().map_or(0, char::len_utf8);
            let probes = [
                line[..line.len() - last].to_owned(),
                format!("{line}0"),
                format!("{line}\n"),
                format!("0{line}"),
            ];
            for probe in &probes {
                assert_eq!(is_listed(probe), set.contains(probe.as_str()), "{probe:?}");
            }
        }
        for absent in [
            "",
            " ",
            "\n",
            "violet harbor tuesday",
            "~~~~~~~~~~~~~~~~~~~~",
        ] {
            assert!(!is_listed(absent), "{absent:?}");
        }
        assert!(is_listed("passwordpassword"));
        assert!(!is_listed("PasswordPassword"), "the caller lower-cases");
    }
}
