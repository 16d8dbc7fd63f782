//! Detection metrics on scored SSBs: thresholds for a false-alarm rate, AUC, ROC.

/// Smallest threshold `t` such that at most `floor(pfa · n)` of `negatives` score `≥ t`
/// (ties stay on the same side, so the rate is never exceeded on these scores).
pub fn threshold_for_pfa(negatives: &[f64], pfa: f64) -> f64 {
    if negatives.is_empty() {
        return 0.5;
    }
    let mut s = negatives.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    let k = (pfa * s.len() as f64).floor() as usize;
    if k >= s.len() {
        return f64::NEG_INFINITY;
    }
    next_up(s[k])
}

fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let b = x.to_bits();
    f64::from_bits(if x > 0.0 { b + 1 } else { b - 1 })
}

/// Fraction of `v` at or above `t` (None when empty).
pub fn rate(v: &[f64], t: f64) -> Option<f64> {
    if v.is_empty() {
        None
    } else {
        Some(v.iter().filter(|x| **x >= t).count() as f64 / v.len() as f64)
    }
}

/// Area under the ROC curve (Mann–Whitney, ties count ½).
pub fn auc(pos: &[f64], neg: &[f64]) -> Option<f64> {
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = pos
        .iter()
        .map(|x| (*x, true))
        .chain(neg.iter().map(|x| (*x, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of positive ranks with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let (np, nn) = (pos.len() as f64, neg.len() as f64);
    Some((rank_sum - np * (np + 1.0) / 2.0) / (np * nn))
}

/// ROC points (Pfa, Pd), one per distinct threshold, from (0,0)… to (1,1).
pub fn roc(pos: &[f64], neg: &[f64]) -> Vec<(f64, f64)> {
    let mut ts: Vec<f64> = pos.iter().chain(neg.iter()).copied().collect();
    ts.sort_by(|a, b| b.total_cmp(a));
    ts.dedup();
    let mut p = pos.to_vec();
    let mut n = neg.to_vec();
    p.sort_by(|a, b| b.total_cmp(a));
    n.sort_by(|a, b| b.total_cmp(a));
    let (mut ip, mut i_n) = (0, 0);
    let mut out = vec![(0.0, 0.0)];
    for t in ts {
        while ip < p.len() && p[ip] >= t {
            ip += 1;
        }
        while i_n < n.len() && n[i_n] >= t {
            i_n += 1;
        }
        out.push((
            i_n as f64 / n.len().max(1) as f64,
            ip as f64 / p.len().max(1) as f64,
        ));
    }
    out
}

/// Median of `v` (None when empty).
pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_keeps_the_rate() {
        let neg: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let t = threshold_for_pfa(&neg, 0.01);
        assert_eq!(rate(&neg, t), Some(0.01));
        // Ties at the top: the threshold moves above all of them.
        let mut tied = vec![0.0; 990];
        tied.extend(vec![1.0; 10]);
        tied.extend(vec![0.9; 5]);
        let t = threshold_for_pfa(&tied, 0.01);
        assert!(rate(&tied, t).unwrap() <= 0.01);
        assert!(t > 0.9);
    }

    #[test]
    fn auc_against_a_direct_count() {
        let pos = [0.9, 0.8, 0.5, 0.5, 0.1];
        let neg = [0.5, 0.4, 0.2, 0.05];
        let mut wins = 0.0;
        for p in pos {
            for n in neg {
                wins += if p > n {
                    1.0
                } else if p == n {
                    0.5
                } else {
                    0.0
                };
            }
        }
        let direct = wins / (pos.len() * neg.len()) as f64;
        assert!((auc(&pos, &neg).unwrap() - direct).abs() < 1e-12);
        let r = roc(&pos, &neg);
        assert_eq!(r.first(), Some(&(0.0, 0.0)));
        assert_eq!(r.last(), Some(&(1.0, 1.0)));
        // Trapezoid area under the ROC equals the AUC.
        let area: f64 = r
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
            .sum();
        assert!((area - direct).abs() < 1e-12);
    }
}
