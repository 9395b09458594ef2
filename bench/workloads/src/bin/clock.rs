//! Host-call cost: one million WASI `clock_time_get` calls, each a host call.
#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> u16;
}

fn main() {
    const MONOTONIC: u32 = 1;
    let mut sum = 0u64;
    for _ in 0..1_000_000 {
        let mut now = 0u64;
        // SAFETY: `now` is a valid place for the host to write a u64.
        let errno = unsafe { clock_time_get(MONOTONIC, 1, &mut now) };
        assert_eq!(errno, 0, "clock_time_get failed");
        sum = sum.wrapping_add(now);
    }
    println!("{}", sum & 1);
}
