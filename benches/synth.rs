//! Scenario rendering speed at 30.72 Msps (into memory; file writing is measured by
//! `synth`'s own real-time report): a clean half-loaded cell, and the same with a barrage
//! jammer. Throughput in samples; real-time factor = samples/s ÷ 30.72 M.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use num_complex::Complex32;
use ssbguard::synth::{Scenario, Synth};

fn bench(c: &mut Criterion) {
    let base = "duration_s = 0.1\nsample_rate_hz = 30.72e6\nseed = 1\n[[gnb]]\npci = 500\nscs_khz = 30\nssb_offset_hz = 2.16e6\nsnr_db = 20.0\ntraffic_load = 0.5\n";
    let jam = "[[jammer]]\ntype = \"barrage\"\nsjnr_db = 15.0\n";
    let mut g = c.benchmark_group("synth_30.72Msps");
    g.sample_size(10);
    for (name, text) in [
        ("clean", base.to_string()),
        ("barrage", format!("{base}{jam}")),
    ] {
        let scn = Scenario::from_toml(&text).expect("scenario");
        let n = scn.total_samples();
        g.throughput(Throughput::Elements(n));
        let mut buf = vec![Complex32::new(0.0, 0.0); 1 << 16];
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut s = Synth::new(&scn).expect("valid");
                while s.render(&mut buf) > 0 {
                    black_box(&buf);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
