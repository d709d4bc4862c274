// Rust fixture for the symbolizer tests: a function in a module, kept out of line.
use std::time::{Duration, Instant};

mod work {
    #[inline(never)]
    pub fn spin_here(n: u64, seed: u64) -> u64 {
        let mut x = seed;
        for i in 0..n {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        x
    }
}

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut acc = 0u64;
    while Instant::now() < end {
        acc = acc.wrapping_add(work::spin_here(100000, acc));
    }
    std::process::exit((acc & 1) as i32 * 0);
}
