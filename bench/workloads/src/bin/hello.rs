//! Start-up cost: Rust std's start-up and one line on stdout.
fn main() {
    println!("Hello, world!");
}
