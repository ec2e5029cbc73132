//! Robust statistics used by the detector: median, median absolute deviation
//! (MAD, scaled to be consistent with the standard deviation of a normal
//! distribution) and the one-sided Student-t tail probability.
//!
//! References: Hampel (1974) for the MAD as a robust scale; the t tail from
//! `statrs`.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Scale factor that makes the MAD a consistent estimator of σ for normal data.
pub const MAD_TO_SIGMA: f64 = 1.482_602_218_505_602;
/// Scale factor that makes the mean absolute deviation consistent for normal data.
pub const MEAN_ABS_TO_SIGMA: f64 = 1.253_314_137_315_500_3;

/// Median of `xs`, reordering them. `None` for an empty slice.
pub fn median_in_place(xs: &mut [f64]) -> Option<f64> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (_, hi, _) = xs.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    let hi = *hi;
    if n % 2 == 1 {
        Some(hi)
    } else {
        // the largest of the lower half
        let lo = xs[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((lo + hi) / 2.0)
    }
}

/// Robust scale of `xs` around `center`: MAD × 1.4826, falling back to the
/// scaled mean absolute deviation when more than half the deviations are zero
/// (a store that often does not change at all), and to 0 when all are zero.
/// `scratch` is reused to avoid allocation.
pub fn robust_scale(xs: &[f64], center: f64, scratch: &mut Vec<f64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    scratch.clear();
    scratch.extend(xs.iter().map(|x| (x - center).abs()));
    let mad = median_in_place(scratch).unwrap_or(0.0);
    if mad > 0.0 {
        return mad * MAD_TO_SIGMA;
    }
    let mean_abs = scratch.iter().sum::<f64>() / scratch.len() as f64;
    mean_abs * MEAN_ABS_TO_SIGMA
}

/// One-sided lower-tail p-value P(T ≤ z) for a Student-t with `df` degrees of
/// freedom. Always in [0, 1]; a NaN z (never expected) gives 1.
pub fn lower_tail_p(z: f64, df: f64) -> f64 {
    if z.is_nan() {
        return 1.0;
    }
    if z == f64::NEG_INFINITY {
        return 0.0;
    }
    let df = df.max(1.0);
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => t.cdf(z).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median_in_place(&mut []), None);
        assert_eq!(median_in_place(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median_in_place(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn scale_of_normal_like_data_and_mad_zero() {
        let mut s = Vec::new();
        // MAD of [-1, 0, 1] around 0 is 1 → 1.4826
        let v = robust_scale(&[-1.0, 0.0, 1.0], 0.0, &mut s);
        assert!((v - MAD_TO_SIGMA).abs() < 1e-12);
        // mostly zeros: MAD is 0, falls back to mean absolute deviation
        let v = robust_scale(&[0.0, 0.0, 0.0, 0.0, 4.0], 0.0, &mut s);
        assert!((v - 0.8 * MEAN_ABS_TO_SIGMA).abs() < 1e-12);
        assert_eq!(robust_scale(&[2.0, 2.0], 2.0, &mut s), 0.0);
    }

    #[test]
    fn t_tail_reference_values() {
        // Reference values: t distribution with 10 df, P(T <= -2.228) ≈ 0.025.
        assert!((lower_tail_p(-2.228_138_85, 10.0) - 0.025).abs() < 1e-6);
        assert!((lower_tail_p(0.0, 5.0) - 0.5).abs() < 1e-12);
        assert_eq!(lower_tail_p(f64::NEG_INFINITY, 5.0), 0.0);
        assert_eq!(lower_tail_p(f64::NAN, 5.0), 1.0);
        let p = lower_tail_p(-40.0, 3.0);
        assert!((0.0..1e-4).contains(&p));
    }
}
