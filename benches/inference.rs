//! Batch-1 inference latency of the shipped models (goal: the whole DT-DDNN cascade
//! < 50 µs per SSB). Inputs are real: SSB rows recorded from a generated jammed scenario,
//! one decided at stage 1 and one that goes on to stage 2.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use num_complex::Complex32;
use ssbguard::dataset;
use ssbguard::detect::classic::ClassicVerdict;
use ssbguard::detect::dnn::{self, Cascade, N_INPUT};

fn bench(c: &mut Criterion) {
    let dir = dnn::Models::Dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    let mut cascade = match Cascade::load(&dir) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("inference bench skipped: {e}");
            return;
        }
    };
    // A jammed scenario with weak and strong SSBs.
    let rows: Vec<[f32; N_INPUT]> = (3_000_000..3_000_040)
        .filter(|s| dataset::scenario_for_seed(*s).1.class_code >= 3)
        .take(3)
        .filter_map(|s| dataset::simulate(s, None, true, false).ok())
        .flat_map(|o| o.rows.into_iter().map(|r| r.input))
        .collect();
    for stage in [1u8, 2] {
        let found = rows
            .iter()
            .find(|x| cascade.score(x).ok().map(|v| v.1) == Some(stage))
            .copied();
        match found {
            Some(x) => {
                c.bench_function(&format!("dtddnn_cascade_stage{stage}_batch1"), |b| {
                    b.iter(|| cascade.score(black_box(&x)))
                });
            }
            None => eprintln!("no recorded SSB reaches stage {stage}"),
        }
    }
    // Through the ModelDetector interface (feature packing included).
    let f = [0.0f32; ssbguard::features::LEN];
    let v = ClassicVerdict {
        ratio: 1.0 + (0.3f64 / 0.7).ln() / 4.0,
        epnre_rise_db: Some(0.5),
        sjnr_est_db: 20.0,
        null_rise: Some((0.5, 1.0)),
        snr_drop_db: Some(0.0),
        band_rise_db: Some(0.0),
        floor_rise: None,
        sync_rise: Some((0.5, 1.0)),
        null_excess_sigmas: Some(1.0),
        cusum_ratio: 0.0,
        recent_excess_z: 0.0,
    };
    for kind in ["dtddnn", "single", "rawiq"] {
        let Ok(mut m) = dnn::load(kind, &dir) else {
            continue;
        };
        let iq = vec![Complex32::new(0.1, -0.2); 2192];
        c.bench_function(&format!("{kind}_decide_batch1"), |b| {
            b.iter(|| m.decide(black_box(&f), black_box(&iq), black_box(&v)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
