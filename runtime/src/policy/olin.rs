//! The Olin policy file format (see the [policy documentation](super)): parsed whole, merged only
//! once the whole file is valid. The parser touches no file: `ca-file` paths are returned for the
//! caller to read.

use std::path::PathBuf;

use regex_lite::Regex;

use super::rule::{Access, Matcher, Rule, Source};
use super::AddrRange;
use crate::{Error, Result};

/// What an Olin policy file says besides its rules: limits and files to trust.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OlinSettings {
    /// `ram-page-limit N` (see [`super::Limits::apply_olin`]).
    pub ram_page_limit: Option<u32>,
    /// `gas-limit N`.
    pub gas_limit: Option<u64>,
    /// `ca-file PATH`, in order: PEM files whose certificates the caller should trust
    /// ([`super::Network::trust_pem`]); a relative path is relative to the current directory.
    pub ca_files: Vec<PathBuf>,
}

/// The parsed content of one Olin policy file, merged only once the whole file is valid.
#[derive(Debug, Default)]
pub(super) struct Olin {
    /// `allow` patterns.
    pub(super) allows: Vec<Rule>,
    /// `disallow` patterns.
    pub(super) denies: Vec<Rule>,
    /// `allow-private` ranges.
    pub(super) private_ranges: Vec<AddrRange>,
    /// Limits and CA files.
    pub(super) settings: OlinSettings,
}

/// Which kind of pattern block is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// `allow (`
    Allow,
    /// `disallow (`
    Disallow,
}

impl Block {
    /// The directive's name.
    fn name(self) -> &'static str {
        match self {
            Block::Allow => "allow",
            Block::Disallow => "disallow",
        }
    }
}

/// An error's message without the name of its kind, to put after a policy line number.
fn message(e: Error) -> String {
    match e {
        Error::InvalidArgument(m) | Error::Unsupported(m) => m,
        other => other.to_string(),
    }
}

/// Parses an Olin policy file (see the module documentation).
pub(super) fn parse_olin(text: &str) -> Result<Olin> {
    let mut olin = Olin::default();
    // The open block and the line that opened it.
    let mut open: Option<(Block, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        let n = index + 1;
        let err = |msg: String| Error::invalid(format!("policy line {n}: {msg}"));
        let line = line.trim();
        if line.is_empty() || line.starts_with("##") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some((block, _)) = open {
            match words.as_slice() {
                [")"] => open = None,
                [pattern] => olin.push(block, pattern, n)?,
                _ => {
                    return Err(err(format!(
                        "expected one pattern or `)` inside the {} block, found {line:?}",
                        block.name()
                    )))
                }
            }
            continue;
        }
        match words.as_slice() {
            [kind @ ("allow" | "disallow"), "("] => {
                let block = if *kind == "allow" {
                    Block::Allow
                } else {
                    Block::Disallow
                };
                open = Some((block, n));
            }
            ["allow", pattern] => olin.push(Block::Allow, pattern, n)?,
            ["disallow", pattern] => olin.push(Block::Disallow, pattern, n)?,
            ["ram-page-limit", value] => {
                if olin.settings.ram_page_limit.is_some() {
                    return Err(err("ram-page-limit is given twice".to_owned()));
                }
                let pages = value.parse::<u32>().map_err(|e| {
                    err(format!(
                        "ram-page-limit needs a number of pages, not {value:?}: {e}"
                    ))
                })?;
                olin.settings.ram_page_limit = Some(pages);
            }
            ["gas-limit", value] => {
                if olin.settings.gas_limit.is_some() {
                    return Err(err("gas-limit is given twice".to_owned()));
                }
                let gas = value.parse::<u64>().map_err(|e| {
                    err(format!(
                        "gas-limit needs a number of instructions, not {value:?}: {e}"
                    ))
                })?;
                olin.settings.gas_limit = Some(gas);
            }
            ["allow-private", range] => {
                let range = AddrRange::parse(range).map_err(|e| err(message(e)))?;
                olin.private_ranges.push(range);
            }
            ["ca-file", path] => olin.settings.ca_files.push(PathBuf::from(path)),
            [")", ..] => return Err(err("`)` without an open block".to_owned())),
            [directive @ ("allow" | "disallow" | "ram-page-limit" | "gas-limit"
            | "allow-private" | "ca-file"), ..] => {
                return Err(err(format!(
                    "{directive} takes one argument, found {line:?}"
                )))
            }
            [directive, ..] => {
                return Err(err(format!(
                    "unknown directive {directive:?} (expected allow, disallow, ram-page-limit, \
                     gas-limit, allow-private, ca-file or a ## comment)"
                )))
            }
            [] => {}
        }
    }
    if let Some((block, line)) = open {
        return Err(Error::invalid(format!(
            "policy line {line}: the {} block opened here is never closed with `)`",
            block.name()
        )));
    }
    Ok(olin)
}

impl Olin {
    /// Compiles `pattern` from line `n` and adds it to the block's rules.
    fn push(&mut self, block: Block, pattern: &str, n: usize) -> Result<()> {
        let bad = |e: regex_lite::Error| {
            Error::invalid(format!("policy line {n}: bad pattern {pattern:?}: {e}"))
        };
        // Compiled alone first, so a pattern like `a)|(b` cannot break out of the anchoring group.
        Regex::new(pattern).map_err(bad)?;
        let regex = Regex::new(&format!("^(?:{pattern})(?:[/?#].*)?$")).map_err(bad)?;
        let rule = Rule {
            matcher: Matcher::Pattern {
                text: pattern.to_owned(),
                regex,
            },
            source: Source::Olin { line: n },
            access: Access::ReadWrite,
        };
        match block {
            Block::Allow => self.allows.push(rule),
            Block::Disallow => self.denies.push(rule),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tests::{denied, granted, olin, olin_error, olin_with_settings};
    use crate::policy::{Limits, Policy};

    #[test]
    fn olin_file_parses() {
        let text = "\
## This is an example policy

## URL patterns this handler can open
allow (
  https://api\\.example\\.com
  ## a comment inside a block
  file:///srv/data/.*\\.csv
)

disallow (
  https://api\\.example\\.com/admin
)
allow https://one\\.example
disallow file:///srv/data/secret\\.csv

ram-page-limit 128
gas-limit 1048576
";
        let (p, settings) = olin_with_settings(text);
        let mut limits = Limits::default();
        limits.apply_olin(&settings);
        assert_eq!(limits.max_memory_pages, Some(128));
        assert_eq!(limits.fuel, Some(1_048_576));
        assert_eq!(limits.timeout, None);
        granted(&p, "https://api.example.com/v1");
        granted(&p, "https://one.example/");
        granted(&p, "file:///srv/data/in.csv");
        denied(&p, "file:///srv/data/in.txt");
        let e = denied(&p, "https://api.example.com/admin/users");
        assert_eq!(
            e,
            "https://api.example.com/admin/users is denied by disallow pattern on line 11 of the policy"
        );
        let e = denied(&p, "file:///srv/data/secret.csv");
        assert!(e.ends_with("on line 14 of the policy"), "{e}");
        // The defaults still hold.
        granted(&p, "null://");
    }

    #[test]
    fn olin_patterns_are_anchored() {
        let p = olin("allow (\n  https://api\\.example\\.com\n)\n");
        denied(&p, "https://api.example.com.evil.net/");
        denied(&p, "https://evil.net/?https://api.example.com");
        denied(&p, "https://evil.net/https://api.example.com");
        denied(&p, "https://api.example.com:8443/");
        granted(&p, "https://api.example.com/v1");
        granted(&p, "https://api.example.com");
        granted(&p, "https://api.example.com?x=1");
        // A pattern cannot break out of the anchoring group.
        let e = olin_error("allow (\n  x)|(.*\n)\n");
        assert!(e.starts_with("policy line 2: bad pattern"), "{e}");
        // Alternations are anchored as a whole.
        let p = olin("allow a://x|https://h\n");
        denied(&p, "https://evil.net/?https://h");
        granted(&p, "https://h/x");
    }

    #[test]
    fn olin_disallow_wins() {
        let p = olin("allow (\n  https://.*\n)\ndisallow (\n  https://evil\\.net\n)\n");
        granted(&p, "https://good.net/");
        denied(&p, "https://evil.net/x");
        // Disallow also wins over the defaults and over --allow.
        let mut p = olin("disallow (\n  random://\n  https://h\n)\n");
        p.allow("https://h").unwrap();
        denied(&p, "random://");
        denied(&p, "https://h/");
    }

    #[test]
    fn olin_merges_and_is_atomic() {
        let mut p = Policy::new();
        let mut limits = Limits::default();
        limits.apply_olin(&p.add_olin("gas-limit 10\n").unwrap());
        limits.apply_olin(&p.add_olin("ram-page-limit 2\n").unwrap());
        assert_eq!(limits.fuel, Some(10));
        assert_eq!(limits.max_memory_pages, Some(2));
        let before = p.grants();
        assert!(p
            .add_olin("allow https://h\ngas-limit 99\nbogus\n")
            .is_err());
        assert_eq!(p.grants(), before);
        p.add_olin("").unwrap();
        p.add_olin("## only a comment\n\n").unwrap();
        assert_eq!(p.grants(), before);
    }

    #[test]
    fn olin_errors_name_the_line() {
        let cases = [
            (
                "## ok\nfrobnicate 3\n",
                "policy line 2: unknown directive \"frobnicate\"",
            ),
            ("# single hash\n", "policy line 1: unknown directive \"#\""),
            (
                "allow (\n  https://h\n",
                "policy line 1: the allow block opened here is never closed",
            ),
            (
                "\ndisallow (\n",
                "policy line 2: the disallow block opened here is never closed",
            ),
            (
                "allow (\n)\n)\n",
                "policy line 3: `)` without an open block",
            ),
            (
                "allow (\n  allow (\n)\n",
                "policy line 2: expected one pattern or `)`",
            ),
            ("allow (\n  a b\n)\n", "policy line 2: expected one pattern"),
            (
                "allow (\n  https://(\n)\n",
                "policy line 2: bad pattern \"https://(\"",
            ),
            ("\n\ndisallow [\n", "policy line 3: bad pattern \"[\""),
            (
                "ram-page-limit lots\n",
                "policy line 1: ram-page-limit needs a number",
            ),
            (
                "ram-page-limit -1\n",
                "policy line 1: ram-page-limit needs a number",
            ),
            (
                "ram-page-limit 4294967296\n",
                "policy line 1: ram-page-limit needs a number",
            ),
            ("gas-limit 1.5\n", "policy line 1: gas-limit needs a number"),
            ("gas-limit\n", "policy line 1: gas-limit takes one argument"),
            (
                "gas-limit 1 2\n",
                "policy line 1: gas-limit takes one argument",
            ),
            (
                "gas-limit 1\ngas-limit 2\n",
                "policy line 2: gas-limit is given twice",
            ),
            (
                "ram-page-limit 1\nram-page-limit 2\n",
                "policy line 2: ram-page-limit is given twice",
            ),
            ("allow\n", "policy line 1: allow takes one argument"),
            ("allow ( x\n", "policy line 1: allow takes one argument"),
        ];
        for (text, expected) in cases {
            let e = olin_error(text);
            assert!(e.starts_with(expected), "{text:?}: {e:?}");
        }
    }

    #[test]
    fn olin_handles_crlf_and_indentation() {
        let (p, settings) =
            olin_with_settings("## windows\r\nallow (\r\n\thttps://h\r\n  )\r\ngas-limit 5\r\n");
        granted(&p, "https://h/x");
        assert_eq!(settings.gas_limit, Some(5));
    }

    #[test]
    fn olin_network_directives() {
        let p = olin("allow-private 10.0.0.0/8\nallow-private fe80::/10\n");
        assert_eq!(p.network.private_ranges.len(), 2);
        let e = olin_error("allow-private 10.0.0.1/8\n");
        assert!(e.starts_with("policy line 1: address range"), "{e}");
        // The parser reads no file: it returns the paths, in order.
        let (_, settings) = olin_with_settings("\nca-file /nonexistent/ca.pem\nca-file rel.pem\n");
        assert_eq!(
            settings.ca_files,
            [
                PathBuf::from("/nonexistent/ca.pem"),
                PathBuf::from("rel.pem")
            ]
        );
        let e = olin_error("ca-file\n");
        assert!(
            e.starts_with("policy line 1: ca-file takes one argument"),
            "{e}"
        );
    }
}
