//! Retry backoff: exponential, capped, with jitter that is a pure function
//! of (seed, job, attempt), so the simulator's output is the same for the
//! same seed, byte for byte.

use std::time::Duration;

/// The wait before retrying `job` after its failed attempt `attempt` (1-based).
pub fn backoff(base: Duration, max: Duration, seed: u64, job: i64, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(30);
    let plain = base.saturating_mul(1u32 << doublings).min(max);
    // Up to a quarter more, so retries of jobs that failed together spread.
    let fraction = mix(seed ^ (job as u64).rotate_left(17) ^ u64::from(attempt)) % 1000;
    let jitter = plain.mul_f64(fraction as f64 / 4000.0);
    (plain + jitter).min(max.max(plain))
}

/// splitmix64: a well-spread hash of one number.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn doubles_with_bounded_jitter_and_a_cap() {
        let b1 = backoff(30 * S, 1800 * S, 7, 1, 1);
        let b2 = backoff(30 * S, 1800 * S, 7, 1, 2);
        let b3 = backoff(30 * S, 1800 * S, 7, 1, 3);
        assert!((30 * S..=37 * S + S / 2).contains(&b1), "{b1:?}");
        assert!((60 * S..=75 * S).contains(&b2), "{b2:?}");
        assert!((120 * S..=150 * S).contains(&b3), "{b3:?}");
        assert_eq!(backoff(30 * S, 100 * S, 7, 1, 20), 100 * S, "capped");
    }

    #[test]
    fn the_same_seed_gives_the_same_wait_and_jobs_spread() {
        assert_eq!(
            backoff(30 * S, 1800 * S, 1, 5, 1),
            backoff(30 * S, 1800 * S, 1, 5, 1)
        );
        let waits: std::collections::BTreeSet<_> = (0..20)
            .map(|job| backoff(30 * S, 1800 * S, 1, job, 1))
            .collect();
        assert!(waits.len() > 10, "jitter spreads jobs: {waits:?}");
    }
}
