//! The shared store (issue 15): the store suite every backend passes (suite.rs), and three real
//! `tern serve` nodes on one PostgreSQL (nodes.rs). The PostgreSQL parts need a server:
//! serve/tests/pg/run.sh starts a throwaway one and sets TERN_TEST_POSTGRES_URL; without it they
//! say so and pass.

#[cfg(feature = "postgres")]
mod nodes;
mod suite;

/// The test cluster's URL, or `None` (and a note) when no PostgreSQL was given.
#[cfg(feature = "postgres")]
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("TERN_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        eprintln!("skipped: no TERN_TEST_POSTGRES_URL (serve/tests/pg/run.sh starts a PostgreSQL)");
    }
    url
}

/// A new, empty database on the test cluster; returns its URL.
#[cfg(feature = "postgres")]
pub fn fresh_database(url: &str) -> String {
    let name = format!(
        "tern_test_{}",
        tern_serve::store::random_hex(6).expect("random name")
    );
    let mut admin = ::postgres::Client::connect(url, ::postgres::NoTls).expect("connecting");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("creating a test database");
    let (base, _) = url.rsplit_once('/').expect("URL with a database");
    format!("{base}/{name}")
}
