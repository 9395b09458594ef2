//! Shrinks an ABI finding to the few host calls that still cause it, and explains them: each call is
//! printed with its function's name and the strings its pointers point at.

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use crate::campaign::Options;
use crate::finding;

/// A saved ABI guest cut into the lines before the calls, the calls, and the lines after.
struct Guest {
    head: Vec<String>,
    calls: Vec<String>,
    tail: Vec<String>,
}

impl Guest {
    fn parse(wat: &str) -> Guest {
        let mut guest = Guest {
            head: Vec::new(),
            calls: Vec::new(),
            tail: Vec::new(),
        };
        let mut in_body = false;
        for line in wat.lines() {
            if !in_body && guest.calls.is_empty() && line.starts_with("    (") {
                in_body = true;
            }
            if in_body && !line.starts_with("    (") {
                in_body = false;
            }
            let part = match (in_body, guest.calls.is_empty() && !in_body) {
                (true, _) => &mut guest.calls,
                (false, true) => &mut guest.head,
                (false, false) => &mut guest.tail,
            };
            part.push(line.to_owned());
        }
        guest
    }

    fn text(&self, calls: &[String]) -> String {
        let mut lines = self.head.clone();
        lines.extend(calls.iter().cloned());
        lines.extend(self.tail.iter().cloned());
        lines.join("\n") + "\n"
    }
}

/// Removes calls while the finding's kind still shows; writes `minimal.wat` and prints its calls.
pub fn minimize(options: &Options) -> Result<usize, String> {
    let dir = options
        .replay
        .as_ref()
        .ok_or("minimize needs a finding directory")?;
    let read =
        |name: &str| fs::read(dir.join(name)).map_err(|e| format!("{}/{name}: {e}", dir.display()));
    let wat = String::from_utf8(read("guest.wat")?).map_err(|_| "guest.wat is not UTF-8")?;
    let kind = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.splitn(3, '-').nth(2)) // <fuzzer>-<seed>-<kind>
        .ok_or("cannot tell the finding's kind from its directory name")?
        .to_owned();
    let guest = Guest::parse(&wat);
    let candidate = dir.join("candidate.wasm");
    let original = fs::canonicalize(dir.join("guest.wasm")).map_err(|e| e.to_string())?;
    let args: Vec<OsString> = finding::saved_args(dir)?
        .into_iter()
        .map(|a| {
            if Path::new(&a) == original {
                candidate.clone().into_os_string()
            } else {
                a
            }
        })
        .collect();
    if !args.contains(&candidate.clone().into_os_string()) {
        return Err(format!(
            "{}/args does not run {}",
            dir.display(),
            original.display()
        ));
    }
    let sandbox = finding::saved_sandbox(dir)?;
    let stdin_open = dir.join("stdin-open").exists();
    let fails = |calls: &[String]| -> Result<bool, String> {
        let binary = wat::parse_str(guest.text(calls)).map_err(|e| e.to_string())?;
        fs::write(&candidate, binary).map_err(|e| e.to_string())?;
        let kinds = finding::check(
            options,
            &args,
            sandbox.as_ref().map(|(r, t)| (r.as_path(), t.as_str())),
            stdin_open,
        )?;
        Ok(kinds.iter().any(|k| *k == kind))
    };
    let mut calls = guest.calls.clone();
    if !fails(&calls)? {
        return Err(format!("{}: the finding does not reproduce", dir.display()));
    }
    // Delta debugging, simply: drop chunks, halving the chunk size until single calls.
    let mut chunk = calls.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        while start < calls.len() {
            let end = (start + chunk).min(calls.len());
            let mut fewer = calls[..start].to_vec();
            fewer.extend_from_slice(&calls[end..]);
            if fails(&fewer)? {
                calls = fewer;
            } else {
                start = end;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    let _ = fs::remove_file(&candidate);
    fs::write(dir.join("minimal.wat"), guest.text(&calls)).map_err(|e| e.to_string())?;
    println!(
        "{} of {} calls still give {kind} ({}):",
        calls.len(),
        guest.calls.len(),
        dir.join("minimal.wat").display()
    );
    for call in &calls {
        println!("  {}", explain(&guest, call));
    }
    Ok(0)
}

/// `call` with `$fN` named and each string pointer followed by the string.
fn explain(guest: &Guest, call: &str) -> String {
    let names: Vec<&str> = guest
        .head
        .iter()
        .filter(|l| l.contains("(import "))
        .map(|l| l.rsplit(";; ").next().unwrap_or("?"))
        .collect();
    let (base, strings) = data_strings(&guest.head);
    let mut out = String::new();
    let mut rest = call.trim();
    while let Some(at) = rest.find(['$', '(']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(tail) = rest.strip_prefix("$f") {
            let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
            let name = digits
                .parse::<usize>()
                .ok()
                .and_then(|i| names.get(i))
                .copied()
                .unwrap_or("?");
            out.push_str(name);
            rest = &tail[digits.len()..];
        } else if let Some(tail) = rest.strip_prefix("(i32.const ") {
            let digits: String = tail
                .chars()
                .take_while(|c| *c == '-' || c.is_ascii_digit())
                .collect();
            out.push_str("(i32.const ");
            out.push_str(&digits);
            if let Some(s) = digits
                .parse::<i64>()
                .ok()
                .and_then(|v| string_at(&strings, base, v))
            {
                out.push_str(&format!(" {s:?}"));
            }
            rest = &tail[digits.len()..];
        } else {
            out.push_str(&rest[..1]);
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The last data segment (the strings), decoded, with its address.
fn data_strings(head: &[String]) -> (i64, Vec<u8>) {
    let Some(line) = head
        .iter()
        .rev()
        .find(|l| l.trim_start().starts_with("(data (i32.const "))
    else {
        return (0, Vec::new());
    };
    let after = line.trim_start().trim_start_matches("(data (i32.const ");
    let base: i64 = after
        .split(')')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let quoted = after
        .split_once('"')
        .map(|(_, q)| q.trim_end_matches(&[')', '"'][..]))
        .unwrap_or("");
    let mut bytes = Vec::new();
    let raw = quoted.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 2 < raw.len() {
            let hex = std::str::from_utf8(&raw[i + 1..i + 3]).ok();
            bytes.push(
                hex.and_then(|h| u8::from_str_radix(h, 16).ok())
                    .unwrap_or(b'?'),
            );
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    (base, bytes)
}

/// The NUL-terminated string starting exactly at `addr`, if a string starts there.
fn string_at(strings: &[u8], base: i64, addr: i64) -> Option<String> {
    let offset = usize::try_from(addr - base).ok()?;
    if offset >= strings.len() || (offset > 0 && strings[offset - 1] != 0) {
        return None;
    }
    let end = strings[offset..]
        .iter()
        .position(|&b| b == 0)
        .map_or(strings.len(), |e| offset + e);
    let mut s = String::from_utf8_lossy(&strings[offset..end]).into_owned();
    if s.len() > 100 {
        s.truncate(100);
        s.push('…');
    }
    Some(s)
}
