//! One CGI handler with many behaviours, chosen by the first segment of PATH_INFO, for the serve
//! tests: each shows one rule of the CGI contract or one limit.

use std::io::{Read, Write};

fn head(extra: &str) {
    let mut out = std::io::stdout().lock();
    out.write_all(format!("Content-Type: text/plain\n{extra}\n").as_bytes())
        .unwrap();
}

fn query(name: &str) -> Option<String> {
    let q = std::env::var("QUERY_STRING").unwrap_or_default();
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn spin_ms(ms: u64) {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(ms) {
        std::hint::black_box(0);
    }
}

fn main() {
    let path = std::env::var("PATH_INFO").unwrap_or_default();
    let what = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let mut out = std::io::stdout().lock();
    match what {
        "env" => {
            let mut vars: Vec<(String, String)> = std::env::vars().collect();
            vars.sort();
            out.write_all(b"Content-Type: text/plain\n\n").unwrap();
            for (k, v) in vars {
                writeln!(out, "{k}={v}").unwrap();
            }
        }
        "echo" => {
            let mut body = Vec::new();
            std::io::stdin().read_to_end(&mut body).unwrap();
            let ct = std::env::var("CONTENT_TYPE").unwrap_or_default();
            write!(out, "Content-Type: {ct}\r\nX-Length: {}\r\n\r\n", body.len()).unwrap();
            out.write_all(&body).unwrap();
        }
        "cookies" => {
            out.write_all(b"Status: 201 Created\nSet-Cookie: a=1\nSet-Cookie: b=2\nContent-Type: text/plain\n\nmade\n")
                .unwrap();
        }
        "location" => out.write_all(b"Location: /elsewhere\n\n").unwrap(),
        "badheader" => out.write_all(b"Content-Type: text/plain\nX-Bad: a\x01b\n\nbody\n").unwrap(),
        "nocolon" => out.write_all(b"this is not a header\n\nbody\n").unwrap(),
        "nohead" => {}
        "exit3" => std::process::exit(3),
        "trap" => {
            drop(out);
            #[cfg(target_arch = "wasm32")]
            core::arch::wasm32::unreachable();
            #[cfg(not(target_arch = "wasm32"))]
            std::process::abort();
        }
        "loop" => loop {
            std::hint::black_box(0);
        },
        "slow" => {
            spin_ms(query("ms").and_then(|m| m.parse().ok()).unwrap_or(200));
            drop(out);
            head("");
            println!("slow done");
        }
        // Writes a line every few milliseconds forever: it stops when a write fails.
        "drip" => {
            out.write_all(b"Content-Type: text/plain\n\n").unwrap();
            loop {
                out.write_all(&[b'x'; 1024]).unwrap();
                out.flush().unwrap();
                spin_ms(5);
            }
        }
        "stream" => {
            out.write_all(b"Content-Type: application/octet-stream\n\n").unwrap();
            for i in 0..100u32 {
                out.write_all(&[b'a' + (i % 26) as u8; 1024]).unwrap();
            }
        }
        "big" => {
            out.write_all(b"Content-Type: text/plain\n\n").unwrap();
            for _ in 0..1024 {
                out.write_all(&[b'z'; 1024]).unwrap();
            }
        }
        "log" => {
            eprintln!("a line on stderr");
            drop(out);
            head("");
            println!("logged");
        }
        _ => {
            drop(out);
            head("");
            println!("hello from the test guest");
        }
    }
}
