//! Times tern's phases in-process: engine and linker set-up, compile, and a run in a fresh instance.
use std::sync::Arc;
use std::time::Instant;

use tern::{Policy, Process, Runtime, Stdio, Validation};

fn process(name: &str) -> Process {
    let stdio = Stdio::new(
        Box::new(std::io::empty()),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    );
    let mut process = Process::new(name, vec![name.to_owned()], Arc::new(Policy::new()), stdio);
    // What a CGI request sets, roughly.
    for (key, value) in [
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", "/hello"),
        ("QUERY_STRING", ""),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
    ] {
        process.set_env(key, value);
    }
    process
}

fn per_iteration(label: &str, n: u32, mut f: impl FnMut()) {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    let each = start.elapsed() / n;
    println!("{label:<32} {:>10.1} µs", each.as_secs_f64() * 1e6);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, path, n] = &args[..] else {
        eprintln!("usage: probe phases|loop MODULE N");
        std::process::exit(2);
    };
    let n: u32 = n.parse().expect("N is a number");
    let bytes = std::fs::read(path).expect("read the module");
    match mode.as_str() {
        "phases" => {
            per_iteration("Runtime::new", n, || drop(Runtime::new()));
            let runtime = Runtime::new();
            per_iteration("compile", n, || drop(runtime.compile(&bytes).unwrap()));
            let module = runtime.compile(&bytes).unwrap();
            per_iteration("Process::new", n, || drop(process(path)));
            per_iteration("run (fresh instance)", n, || {
                runtime.run(&module, process(path)).unwrap();
            });
            // What `tern run` does once: compile, then the first run, which translates (and with
            // OnFirstCall validates) the functions the guest calls. A fresh runtime each time, as
            // translations stay with the engine.
            for (label, validation) in [
                ("compile + first run, AtCompile", Validation::AtCompile),
                ("compile + first run, OnFirstCall", Validation::OnFirstCall),
            ] {
                per_iteration(label, n, || {
                    let runtime = Runtime::with_validation(validation);
                    let module = runtime.compile(&bytes).unwrap();
                    runtime.run(&module, process(path)).unwrap();
                });
            }
        }
        "loop" => {
            let runtime = Runtime::new();
            let module = runtime.compile(&bytes).unwrap();
            for _ in 0..n {
                runtime.run(&module, process(path)).unwrap();
            }
        }
        _ => panic!("mode: phases or loop"),
    }
}
