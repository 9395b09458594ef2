//! An ordinary Rust std program: println!, std::env, std::fs on a preopen, std::time, getrandom,
//! stdin. Run with the preopen `/data` holding `in.txt`; arguments `x y`; environment `GREETING`.
//! Prints only deterministic lines, then exits with status 3.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    println!("hello from std");
    eprintln!("to stderr");
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {args:?}");
    println!("GREETING: {:?}", std::env::var("GREETING"));
    println!("MISSING: {:?}", std::env::var("MISSING").is_err());

    let text = std::fs::read_to_string("/data/in.txt").unwrap();
    println!("in.txt: {text:?}");
    std::fs::create_dir_all("/data/out/deeper").unwrap();
    std::fs::write(
        "/data/out/deeper/result.txt",
        format!("{} bytes\n", text.len()),
    )
    .unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open("/data/out/deeper/result.txt")
        .unwrap();
    f.write_all(b"appended\n").unwrap();
    drop(f);
    println!(
        "result: {:?}",
        std::fs::read_to_string("/data/out/deeper/result.txt").unwrap()
    );
    std::fs::copy("/data/in.txt", "/data/out/copy.txt").unwrap();
    std::fs::rename("/data/out/copy.txt", "/data/out/renamed.txt").unwrap();
    let meta = std::fs::metadata("/data/out/renamed.txt").unwrap();
    println!("renamed: file={} len={}", meta.is_file(), meta.len());
    let mut names: Vec<String> = std::fs::read_dir("/data/out")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    println!("read_dir: {names:?}");
    println!(
        "missing: {:?}",
        std::fs::read("/data/nope").map_err(|e| e.kind())
    );
    println!(
        "outside the preopen: {:?}",
        std::fs::read("/etc/passwd").map_err(|e| e.kind())
    );
    std::fs::remove_file("/data/out/renamed.txt").unwrap();
    println!(
        "remove_dir non-empty: {:?}",
        std::fs::remove_dir("/data/out").map_err(|e| e.kind())
    );
    std::fs::remove_dir_all("/data/out").unwrap();
    println!("cleaned: {}", !std::path::Path::new("/data/out").exists());

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    println!("time after 2020: {}", now.as_secs() > 1_577_836_800);
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(15));
    println!("slept: {}", start.elapsed() >= Duration::from_millis(15));
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    println!("random: {}", bytes.iter().any(|&b| b != 0));
    let mut map = HashMap::new();
    map.insert("k", 1);
    println!("hashmap: {:?}", map.get("k"));

    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    println!("stdin: {input:?}");
    std::io::stdout().flush().unwrap();
    std::process::exit(3);
}
