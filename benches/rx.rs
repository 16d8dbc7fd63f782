//! Receiver throughput and per-SSB cost, as real-time factors against a memcpy floor.
//!
//! For each input rate (7.68, 30.72, 61.44 Msps, 30 kHz SCS):
//! - `acquire`: the PSS search on noise (no cell, so it never stops searching);
//! - `track`: the whole pipeline on 300 ms of a half-loaded cell with 8 SSBs every 20 ms,
//!   including its acquisition (found within the first SSB burst, then 25 ms more search);
//! - `memcpy`: copying the same samples in the same block size (the physical floor).
//!
//! Throughput is in input samples; divide by the rate for the real-time factor.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use num_complex::Complex32;
use ssbguard::detect::alert::AlertConfig;
use ssbguard::events::Event;
use ssbguard::nr::Scs;
use ssbguard::pipeline::{DetectorKind, Pipeline, PipelineConfig, SsbLocation};
use ssbguard::synth::{Scenario, Synth};

const BLOCK: usize = 32_768;

fn render(fs: f64, with_cell: bool, dur: f64) -> Vec<Complex32> {
    let gnb = if with_cell {
        "[[gnb]]\npci = 500\nscs_khz = 30\nssb_offset_hz = 0.0\nsnr_db = 20.0\ntraffic_load = 0.5\nframe_offset_s = 0.001\n"
    } else {
        ""
    };
    let text = format!("duration_s = {dur}\nsample_rate_hz = {fs}\nseed = 3\n{gnb}");
    let scn = Scenario::from_toml(&text).expect("scenario");
    let mut s = Synth::new(&scn).expect("valid");
    let mut x = vec![Complex32::new(0.0, 0.0); s.total_samples() as usize];
    s.render(&mut x);
    x
}

fn pipeline(fs: f64) -> Pipeline {
    Pipeline::new(PipelineConfig {
        sample_rate_hz: fs,
        center_freq_hz: Some(3.5e9),
        ssb: SsbLocation::Given {
            offset_hz: 0.0,
            scs: Some(Scs::Khz30),
        },
        detector: DetectorKind::Classic,
        alert: AlertConfig::default(),
        emit_features: false,
    })
    .expect("pipeline")
}

fn run(fs: f64, x: &[Complex32]) -> usize {
    let mut p = pipeline(fs);
    let mut out: Vec<Event> = Vec::new();
    let mut pos = 0u64;
    for c in x.chunks(BLOCK) {
        p.push(pos, c, &mut out);
        pos += c.len() as u64;
    }
    p.finish(&mut out);
    out.len()
}

fn bench(c: &mut Criterion) {
    for fs in [7.68e6, 30.72e6, 61.44e6] {
        let mut g = c.benchmark_group(format!("rx_{:.2}Msps", fs / 1e6));
        g.sample_size(10);
        let noise = render(fs, false, 0.05);
        g.throughput(Throughput::Elements(noise.len() as u64));
        g.bench_function("acquire", |b| b.iter(|| black_box(run(fs, &noise))));
        let cell = render(fs, true, 0.3);
        // The pipeline must really track: 8 SSBs per 20 ms.
        let decisions = {
            let mut p = pipeline(fs);
            let mut out = Vec::new();
            p.push(0, &cell, &mut out);
            p.finish(&mut out);
            out.iter()
                .filter(|e| matches!(e, Event::Decision(_)))
                .count()
        };
        assert!(decisions >= 100, "only {decisions} decisions at {fs}");
        g.throughput(Throughput::Elements(cell.len() as u64));
        g.bench_function("track", |b| b.iter(|| black_box(run(fs, &cell))));
        let mut dst = vec![Complex32::new(0.0, 0.0); BLOCK];
        g.bench_function("memcpy", |b| {
            b.iter(|| {
                for c in cell.chunks(BLOCK) {
                    dst[..c.len()].copy_from_slice(c);
                    black_box(&dst);
                }
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
