//! Reading a suite module's TAP report: `ok N - name`, `not ok N - name`, and `#` comment lines.

use std::collections::btree_map::{BTreeMap, Entry};

/// One result line and the comment lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapResult {
    /// `ok` without a SKIP or TODO directive.
    pub ok: bool,
    /// The description after the number (without a leading `- ` and without the directive).
    pub name: String,
    /// A `# SKIP …` or `# TODO …` directive, which never counts as passing.
    pub directive: Option<String>,
    /// The `#` comment lines after the result line, without the `#`.
    pub diagnostics: Vec<String>,
}

/// A parsed report: results by case number, plus numbers reported more than once.
#[derive(Debug, Default)]
pub struct Report {
    /// The first result for each number.
    pub results: BTreeMap<u32, TapResult>,
    /// Numbers with more than one result line.
    pub duplicates: Vec<u32>,
}

/// Parses the TAP lines in `text`; other lines (the cases' own output) are ignored.
pub fn parse(text: &str) -> Report {
    let mut report = Report::default();
    let mut last: Option<u32> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some((id, result)) = result_line(line) {
            match report.results.entry(id) {
                Entry::Occupied(_) => {
                    report.duplicates.push(id);
                    last = None;
                }
                Entry::Vacant(slot) => {
                    slot.insert(result);
                    last = Some(id);
                }
            }
        } else if let Some(comment) = line.strip_prefix('#') {
            if let Some(result) = last.and_then(|id| report.results.get_mut(&id)) {
                result.diagnostics.push(comment.trim().to_string());
            }
        } else if !line.trim().is_empty() {
            // Output of the case that follows: comments after it belong to nobody.
            last = None;
        }
    }
    report
}

/// Parses `ok N …` / `not ok N …`.
fn result_line(line: &str) -> Option<(u32, TapResult)> {
    let (ok, rest) = if let Some(rest) = line.strip_prefix("ok ") {
        (true, rest)
    } else if let Some(rest) = line.strip_prefix("not ok ") {
        (false, rest)
    } else {
        return None;
    };
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let id: u32 = rest[..digits].parse().ok()?;
    let rest = rest[digits..].trim_start();
    let rest = rest.strip_prefix("- ").unwrap_or(rest);
    let (name, directive) = match rest.split_once('#') {
        Some((name, d)) => (name, Some(d.trim().to_string())),
        None => (rest, None),
    };
    let directive = directive.filter(|d| {
        let upper = d.to_ascii_uppercase();
        upper.starts_with("SKIP") || upper.starts_with("TODO")
    });
    Some((
        id,
        TapResult {
            ok: ok && directive.is_none(),
            name: name.trim().to_string(),
            directive,
            diagnostics: Vec::new(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_diagnostics() {
        let r = parse(
            "# header\nok 1 - first\nc2: some output\nnot ok 2 - second\n# expected 1, got 2\n#  more\nok 3\n",
        );
        assert_eq!(r.results.len(), 3);
        assert!(r.results[&1].ok);
        assert_eq!(r.results[&1].name, "first");
        assert!(r.results[&1].diagnostics.is_empty());
        assert!(!r.results[&2].ok);
        assert_eq!(r.results[&2].diagnostics, ["expected 1, got 2", "more"]);
        assert!(r.results[&3].ok);
        assert_eq!(r.results[&3].name, "");
    }

    #[test]
    fn directives_never_pass() {
        let r = parse(
            "ok 4 - net # SKIP no network\nok 5 - x # todo later\nok 6 - a # plain comment\n",
        );
        assert!(!r.results[&4].ok);
        assert_eq!(r.results[&4].directive.as_deref(), Some("SKIP no network"));
        assert!(!r.results[&5].ok);
        assert!(r.results[&6].ok);
        assert_eq!(r.results[&6].name, "a");
    }

    #[test]
    fn duplicates_keep_the_first() {
        let r = parse("ok 7 - a\nnot ok 7 - a\r\n");
        assert!(r.results[&7].ok);
        assert_eq!(r.duplicates, [7]);
    }

    #[test]
    fn other_lines_are_ignored() {
        let r = parse("okay 1\nok x - y\nnot ok\n  ok 2\n[guest] info: ok 3\n");
        assert!(r.results.is_empty());
    }
}
