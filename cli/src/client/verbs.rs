//! `tern handler …`, `tern logs`, `tern invoke`.

use super::api::{agent, Api};
use super::output::{
    print_json, print_table, routes_of, short_sha, str_of, summary_line, timestamp,
};
use super::{Common, HandlerCommand, InvokeArgs, LogsArgs, EXIT_REFUSED};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::Duration;

// ---- handlers ----

pub(super) fn handler(cmd: HandlerCommand) -> Result<i32> {
    match cmd {
        HandlerCommand::Deploy {
            file,
            name,
            config,
            common,
        } => deploy(&file, name, config.as_deref(), &common),
        HandlerCommand::List(common) => {
            let api = Api::from_config(&common)?;
            let list = api.call("GET", "/v1/handlers", None, &[])?;
            if common.json {
                print_json(&list);
                return Ok(0);
            }
            let mut rows = vec![vec![
                "NAME".to_string(),
                "VERSION".into(),
                "SHA256".into(),
                "ROUTES".into(),
                "UPDATED".into(),
            ]];
            for h in list["handlers"].as_array().into_iter().flatten() {
                rows.push(vec![
                    str_of(&h["name"]),
                    h["live_version"].to_string(),
                    short_sha(&h["sha256"]),
                    routes_of(&h["routes"]),
                    timestamp(h["updated_at"].as_i64().unwrap_or(0)),
                ]);
            }
            print_table(&rows);
            Ok(0)
        }
        HandlerCommand::Show { name, common } => {
            let api = Api::from_config(&common)?;
            let h = api.call("GET", &format!("/v1/handlers/{name}"), None, &[])?;
            if common.json {
                print_json(&h);
                return Ok(0);
            }
            say!("handler   {}", str_of(&h["name"]));
            say!("live      version {}", h["live_version"]);
            say!("config    {}", h["config"]);
            say!(
                "keeps     {} records, {} days",
                h["retention"]["keep_runs"],
                h["retention"]["keep_days"]
            );
            let mut rows = vec![vec![
                "VERSION".to_string(),
                "SHA256".into(),
                "DEPLOYED".into(),
                "".into(),
            ]];
            for v in h["versions"].as_array().into_iter().flatten() {
                rows.push(vec![
                    v["version"].to_string(),
                    short_sha(&v["sha256"]),
                    timestamp(v["created_at"].as_i64().unwrap_or(0)),
                    if v["live"] == json!(true) {
                        "live".into()
                    } else {
                        String::new()
                    },
                ]);
            }
            say!();
            print_table(&rows);
            let recent = h["recent_runs"].as_array().cloned().unwrap_or_default();
            if !recent.is_empty() {
                say!("\nrecent runs");
                for r in recent {
                    say!("  {}", summary_line(&r));
                }
            }
            Ok(0)
        }
        HandlerCommand::Rollback { name, to, common } => {
            let api = Api::from_config(&common)?;
            let path = match to {
                Some(v) => format!("/v1/handlers/{name}/rollback?version={v}"),
                None => format!("/v1/handlers/{name}/rollback"),
            };
            let v = api.call("POST", &path, None, &[])?;
            if common.json {
                print_json(&v);
            } else {
                say!(
                    "{name} is at version {} ({})",
                    v["version"],
                    short_sha(&v["sha256"])
                );
            }
            Ok(0)
        }
        HandlerCommand::Delete { name, common } => {
            let api = Api::from_config(&common)?;
            let v = api.call("DELETE", &format!("/v1/handlers/{name}"), None, &[])?;
            if common.json {
                print_json(&v);
            } else {
                say!("deleted {name}");
            }
            Ok(0)
        }
    }
}

pub(super) fn deploy(
    file: &Path,
    name: Option<String>,
    config: Option<&Path>,
    common: &Common,
) -> Result<i32> {
    let api = Api::from_config(common)?;
    let module = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let (name, section) = match config {
        Some(path) => handler_section(path, name)?,
        None => (name, None),
    };
    let mut headers = Vec::new();
    if let Some(section) = section {
        headers.push(("Tern-Config", ascii_json(&section)));
    }
    headers.push(("Content-Type", "application/wasm".to_string()));
    let v = match &name {
        Some(n) => api.call("PUT", &format!("/v1/handlers/{n}"), Some(module), &headers)?,
        None => api.call("POST", "/v1/handlers", Some(module), &headers)?,
    };
    if common.json {
        print_json(&v);
    } else {
        say!(
            "deployed {} version {} ({}); it is live",
            str_of(&v["name"]),
            v["version"],
            short_sha(&v["sha256"])
        );
    }
    Ok(0)
}

/// The handler's section of a tern.toml as JSON (without `module`: the deploy's file is the
/// module), and the handler's name: `--name`, else the file's only handler.
pub(super) fn handler_section(
    path: &Path,
    name: Option<String>,
) -> Result<(Option<String>, Option<Value>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: toml::Value = toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let handlers = doc
        .get("handlers")
        .and_then(|h| h.as_table())
        .ok_or_else(|| anyhow!("{}: no [handlers.NAME] section", path.display()))?;
    let name = match name {
        Some(n) => n,
        None if handlers.len() == 1 => handlers.keys().next().cloned().unwrap_or_default(),
        None => bail!(
            "{} has {} handlers: pick one with --name ({})",
            path.display(),
            handlers.len(),
            handlers.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    let section = handlers
        .get(&name)
        .ok_or_else(|| anyhow!("{} has no [handlers.{name}] section", path.display()))?;
    let mut section = serde_json::to_value(section)?;
    if let Some(obj) = section.as_object_mut() {
        obj.remove("module");
    }
    Ok((Some(name), Some(section)))
}

/// JSON with every non-ASCII character escaped, so it fits in an HTTP header.
pub(super) fn ascii_json(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

// ---- logs and invoke ----

pub(super) fn logs(args: LogsArgs) -> Result<i32> {
    let api = Api::from_config(&args.common)?;
    let mut path = format!("/v1/handlers/{}/logs?since={}", args.name, args.since);
    if let Some(run) = &args.run {
        path.push_str(&format!("&run={run}"));
    }
    if args.follow {
        path.push_str("&follow=1");
    }
    // Following has no end; a plain read is bounded by the server's page.
    let agent = agent(if args.follow {
        None
    } else {
        Some(Duration::from_secs(120))
    });
    let mut resp = api.send(&agent, "GET", &path, None, &[])?;
    let status = resp.status().as_u16();
    if status != 200 {
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        return Err(api.refusal(status, &text));
    }
    let reader = BufReader::new(resp.into_body().into_reader());
    let stdout = std::io::stdout();
    for line in reader.lines() {
        let line = line.context("reading the log stream")?;
        if line.trim().is_empty() {
            continue;
        }
        let mut out = stdout.lock();
        let written = if args.common.json {
            writeln!(out, "{line}")
        } else {
            let r: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            writeln!(out, "{}", summary_line(&r)).and_then(|_| {
                let logs = r["logs"].as_str().unwrap_or("");
                logs.lines().try_for_each(|l| writeln!(out, "    {l}"))
            })
        };
        if written.and_then(|_| out.flush()).is_err() {
            break; // stdout closed (e.g. piped into head)
        }
    }
    Ok(0)
}

pub(super) fn invoke(args: InvokeArgs) -> Result<i32> {
    let api = Api::from_config(&args.common)?;
    let body = match args.data.as_deref() {
        None => Vec::new(),
        Some("@-") => {
            let mut b = Vec::new();
            std::io::stdin().read_to_end(&mut b)?;
            b
        }
        Some(d) if d.starts_with('@') => {
            std::fs::read(&d[1..]).with_context(|| format!("reading {}", &d[1..]))?
        }
        Some(d) => d.as_bytes().to_vec(),
    };
    let name = &args.name;
    if args.run_async {
        let v = api.call(
            "POST",
            &format!("/v1/handlers/{name}/invoke?async=1"),
            Some(body),
            &[],
        )?;
        if args.common.json {
            print_json(&v);
        } else {
            let run = str_of(&v["run"]);
            say!("{run}");
            esay!("queued; see its outcome with `tern logs {name} --run {run} -f`");
        }
        return Ok(0);
    }
    let mut resp = api.send(
        &api.agent,
        "POST",
        &format!("/v1/handlers/{name}/invoke"),
        Some(body),
        &[],
    )?;
    let status = resp.status().as_u16();
    let run = resp
        .headers()
        .get("x-tern-run-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_vec()
        .context("reading the handler's response")?;
    let Some(run) = run else {
        // No run happened: the API refused (unknown handler, bad token, …).
        return Err(api.refusal(status, &String::from_utf8_lossy(&bytes)));
    };
    if args.common.json {
        print_json(&json!({"run": run, "status": status, "body": String::from_utf8_lossy(&bytes)}));
    } else {
        std::io::stdout().write_all(&bytes)?;
        esay!("run {run}: HTTP {status}");
    }
    Ok(if (200..300).contains(&status) {
        0
    } else {
        EXIT_REFUSED
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handler_section_becomes_the_deploy_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tern.toml");
        std::fs::write(
            &path,
            r#"
[handlers.greet]
module = "hello.wat"
routes = ["/greet"]
timeout = "2s"
env = { GREETING = "hi" }
[[handlers.greet.route]]
path = "/hi/:name"
methods = ["GET"]

[handlers.other]
module = "other.wasm"
routes = ["/other"]
"#,
        )
        .unwrap();
        let (name, section) = handler_section(&path, Some("greet".into())).unwrap();
        let section = section.unwrap();
        assert_eq!(name.as_deref(), Some("greet"));
        assert_eq!(section.get("module"), None);
        assert_eq!(section["routes"], json!(["/greet"]));
        assert_eq!(section["route"][0]["path"], "/hi/:name");
        assert_eq!(section["env"]["GREETING"], "hi");
        // Two handlers and no --name: which one is ambiguous.
        let err = handler_section(&path, None).unwrap_err().to_string();
        assert!(err.contains("--name"), "{err}");
        assert!(handler_section(&path, Some("nope".into())).is_err());
    }

    #[test]
    fn config_json_is_ascii() {
        let v = json!({"env": {"GREETING": "grüß dich 🐦"}});
        let text = ascii_json(&v);
        assert!(text.is_ascii());
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }
}
