//! Reading a suite module's TAP report: `ok N - name`, `not ok N - name`, and `#` comment lines.

use std::collections::btree_map::{BTreeMap, Entry};

/// The comment line with which a suite module names its SDK: `# sdk: NAME VERSION`.
pub const SDK_PREFIX: &str = "# sdk: ";

/// The SDK a suite module is written with, as its `# sdk: NAME VERSION` line says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sdk {
    /// Everything before the last word, e.g. `tern-guest (Rust)`.
    pub name: String,
    /// The last word, e.g. `0.1.0`.
    pub version: String,
}

impl std::fmt::Display for Sdk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

/// One result line and the comment lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapResult {
    /// `ok` without a SKIP or TODO directive.
    pub ok: bool,
    /// The reason of a `# SKIP reason` directive (on `ok` or `not ok`): the module does not
    /// implement the case. Empty when no reason is given.
    pub skip: Option<String>,
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
    /// The module's first `# sdk: NAME VERSION` line.
    pub sdk: Option<Sdk>,
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
        } else if let Some(sdk) = line.strip_prefix(SDK_PREFIX) {
            if report.sdk.is_none() {
                report.sdk = sdk_line(sdk);
            }
            last = None;
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

/// Parses the `NAME VERSION` of an `# sdk:` line; the version is the last word.
fn sdk_line(text: &str) -> Option<Sdk> {
    let text = text.trim();
    let (name, version) = text.rsplit_once(char::is_whitespace)?;
    let name = name.trim();
    (!name.is_empty()).then(|| Sdk {
        name: name.to_string(),
        version: version.to_string(),
    })
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
    let skip = directive
        .as_deref()
        .filter(|d| d.to_ascii_uppercase().starts_with("SKIP"))
        .map(|d| d[4..].trim_start_matches([':', ' ']).trim().to_string());
    Some((
        id,
        TapResult {
            ok: ok && directive.is_none(),
            skip,
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
        assert_eq!(r.results[&4].skip.as_deref(), Some("no network"));
        assert!(!r.results[&5].ok);
        assert_eq!(r.results[&5].skip, None);
        assert!(r.results[&6].ok);
        assert_eq!(r.results[&6].name, "a");
    }

    #[test]
    fn skips_on_ok_and_not_ok_lines() {
        let r = parse("not ok 1 - a # skip: not ported\nok 2 # SKIP\n");
        assert_eq!(r.results[&1].skip.as_deref(), Some("not ported"));
        assert_eq!(r.results[&2].skip.as_deref(), Some(""));
    }

    #[test]
    fn the_sdk_line_names_the_sdk() {
        let r = parse("# sdk: tern-c (C) 0.2.0\nok 1\n# sdk: other 9\n");
        let sdk = r.sdk.unwrap();
        assert_eq!(
            (sdk.name.as_str(), sdk.version.as_str()),
            ("tern-c (C)", "0.2.0")
        );
        assert!(parse("# sdk: lonely\n").sdk.is_none());
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
