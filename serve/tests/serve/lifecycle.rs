//! Graceful shutdown, --watch, and a client leaving a looping run.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::*;
use std::path::PathBuf;

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    let s = Server::start("[handlers.t]\nmodule = \"GUEST\"\nroutes = [\"/t/...\"]\n");
    let addr = s.addr();
    let in_flight =
        std::thread::spawn(move || request(addr, "GET /t/slow?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n"));
    // Wait until the run is on a worker (a condition, not a guess at timing).
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.running.state().metrics.in_flight.get() == 0 {
        assert!(Instant::now() < deadline, "the request never started");
        std::thread::yield_now();
    }
    s.running.shutdown();
    let r = in_flight.join().unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "slow done\n"));
    let Server { running, .. } = s;
    running.wait();
    assert!(TcpStream::connect(addr).is_err(), "no longer accepting");
}

#[test]
fn watch_swaps_a_changed_module_and_keeps_the_old_one_when_broken() {
    let toml = "[handlers.w]\nmodule = \"w.wat\"\nroutes = [\"/...\"]\n";
    let options = Options {
        watch: true,
        ..Default::default()
    };
    let mut module = PathBuf::new();
    let s = Server::start_with(toml, options, |dir| {
        module = dir.join("w.wat");
        std::fs::write(&module, responder("one")).unwrap();
    });
    assert_eq!(s.get("/").text(), "one");
    let wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = s.get("/");
            assert_eq!(r.status, 200, "every request is served during a swap");
            if r.text() == text {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the module never changed to {text:?}"
            );
        }
    };
    std::fs::write(&module, responder("two")).unwrap();
    wait_for("two");
    std::fs::write(&module, "(module (this does not compile").unwrap();
    std::fs::write(&module, responder("three")).unwrap();
    wait_for("three");
    std::fs::write(&module, "(module (this does not compile").unwrap();
    for _ in 0..20 {
        assert_eq!(
            s.get("/").text(),
            "three",
            "a broken module keeps the old one"
        );
    }
}

#[test]
fn a_client_that_leaves_interrupts_a_looping_run() {
    let s = Server::start(
        "[handlers.t]\nmodule = \"GUEST\"\nroutes = [\"/t/...\"]\ntimeout = \"60s\"\n",
    );
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.write_all(b"GET /t/loop HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.running.state().metrics.in_flight.get() == 0 {
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::yield_now();
    }
    let gone = Instant::now();
    drop(c);
    let rec = s.record_for("/t/loop");
    assert_eq!(rec.end, "interrupted", "{rec:?}");
    assert!(rec.client_gone);
    assert!(
        gone.elapsed() < Duration::from_secs(10),
        "stopped long before its 60 s timeout"
    );
}
