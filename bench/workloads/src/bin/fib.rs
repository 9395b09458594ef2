//! Call-heavy compute: naive recursive fib(35).
use std::hint::black_box;

fn fib(n: u32) -> u64 {
    if n < 2 {
        n as u64
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

fn main() {
    println!("{}", fib(black_box(35)));
}
