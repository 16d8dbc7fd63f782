//! Receiver throughput, as real-time factors against a memcpy floor, and decision latency.
//!
//! For each input rate (7.68, 30.72, 61.44 Msps, 30 kHz SCS), pipeline construction
//! excluded (criterion `iter_batched` setup):
//! - `acquire`: the whole pipeline on 50 ms of noise (no cell, so the PSS search runs on
//!   every sample);
//! - `track`: 1 s of a half-loaded cell with 8 SSBs every 20 ms, once locked (the first
//!   120 ms, which include the acquisition, are fed in the setup); it includes one 25 ms
//!   re-acquisition window (every 1 s);
//! - `track_1ssb`: the same with one SSB per burst (`positions_in_burst = 1`): the
//!   issue's premise ("4 symbols every 20 ms"), where the per-sample work dominates;
//! - `memcpy`: copying the same 1 s in the same block size (the physical floor);
//! - `ssb`: the per-SSB chain on one SSB of that cell — cut out at the input rate and
//!   brought to fs_p (`SsbExtractor`), then decoded with the PCI known (`SsbDecoder`:
//!   PSS lag profile, CFO, OFDM demodulation, SSS/DMRS), as the tracker does 400 times a
//!   second here (features and the DNNs are `benches/inference.rs` and a few µs more).
//!
//! Throughput is in input samples; divide by the rate for the real-time factor.
//!
//! Before the criterion groups, a latency report: the same locked cell fed in SDR-sized
//! blocks of 0.13 ms (1024 samples at 7.68 Msps); for each SSB decision, the time from the SSB's last sample to its
//! decision = (end of the block whose push emitted it − end of the SSB) / rate + the wall
//! time of that push. That is the latency of a paced stream when the pipeline keeps up.

use std::hint::black_box;

use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use num_complex::Complex32;
use ssbguard::detect::alert::AlertConfig;
use ssbguard::events::Event;
use ssbguard::nr::Scs;
use ssbguard::pipeline::{DetectorKind, Pipeline, PipelineConfig, SsbLocation};
use ssbguard::rx::ssb::{CP_P, SSB_LEN_P, SsbDecoder, SsbExtractor};
use ssbguard::synth::{Scenario, Synth};

const BLOCK: usize = 32_768;

/// The first SSB's start (CP included) in a [`render`] with a cell.
fn first_ssb(fs: f64) -> f64 {
    let text = format!(
        "duration_s = 0.03\nsample_rate_hz = {fs}\nseed = 3\n[[gnb]]\npci = 500\nscs_khz = 30\n\
         ssb_offset_hz = 0.0\nsnr_db = 20.0\ntraffic_load = 0.5\nframe_offset_s = 0.001\n"
    );
    let s = Synth::new(&Scenario::from_toml(&text).expect("scenario")).expect("valid");
    s.cells()[0].ssbs[0].1
}

/// `positions`: the burst's SSB bitmap (`positions_in_burst`), `None` for all eight.
fn render(fs: f64, with_cell: bool, dur: f64, positions: Option<u8>) -> Vec<Complex32> {
    let gnb = if with_cell {
        let bitmap = positions.map_or(String::new(), |b| format!("positions_in_burst = {b}\n"));
        format!(
            "[[gnb]]\npci = 500\nscs_khz = 30\nssb_offset_hz = 0.0\nsnr_db = 20.0\ntraffic_load = 0.5\nframe_offset_s = 0.001\n{bitmap}"
        )
    } else {
        String::new()
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

/// Feeds `x` from absolute sample `pos`; returns the number of events.
fn feed(p: &mut Pipeline, mut pos: u64, x: &[Complex32]) -> usize {
    let mut out: Vec<Event> = Vec::new();
    for c in x.chunks(BLOCK) {
        p.push(pos, c, &mut out);
        pos += c.len() as u64;
    }
    out.len()
}

const WARM_S: f64 = 0.12;

/// Decisions that found the cell's SSB, over the whole recording.
fn ssb_decisions(fs: f64, x: &[Complex32]) -> usize {
    let mut p = pipeline(fs);
    let mut out = Vec::new();
    p.push(0, x, &mut out);
    p.finish(&mut out);
    out.iter()
        .filter(|e| matches!(e, Event::Decision(d) if d.pci.is_some()))
        .count()
}

fn latency_report(fs: f64, cell: &[Complex32]) {
    // About 0.13 ms of samples per block, as an SDR driver delivers them.
    let sdr_block = (fs / 7500.0).round().max(1.0) as usize;
    let mut p = pipeline(fs);
    let mut out: Vec<Event> = Vec::new();
    let mut lat = Vec::new();
    let mut pos = 0u64;
    for c in cell.chunks(sdr_block) {
        let t0 = Instant::now();
        p.push(pos, c, &mut out);
        let wall = t0.elapsed().as_secs_f64();
        pos += c.len() as u64;
        for e in out.drain(..) {
            if let Event::Decision(d) = e
                && d.pci.is_some()
                && d.time_s > WARM_S
            {
                let ssb_end = (d.sample + d.samples) as f64;
                lat.push((pos as f64 - ssb_end) / fs + wall);
            }
        }
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let q = |f: f64| lat[((lat.len() - 1) as f64 * f).round() as usize] * 1e3;
    println!(
        "latency {:.2} Msps ({sdr_block}-sample blocks): {} SSB decisions, SSB end → decision p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        fs / 1e6,
        lat.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
}

fn bench(c: &mut Criterion) {
    for fs in [7.68e6, 30.72e6, 61.44e6] {
        let noise = render(fs, false, 0.05, None);
        let cell = render(fs, true, WARM_S + 1.0, None);
        let single = render(fs, true, WARM_S + 1.0, Some(1));
        latency_report(fs, &cell);
        let warm = (WARM_S * fs) as usize;
        let mut g = c.benchmark_group(format!("rx_{:.2}Msps", fs / 1e6));
        g.sample_size(10);
        g.throughput(Throughput::Elements(noise.len() as u64));
        g.bench_function("acquire", |b| {
            b.iter_batched(
                || pipeline(fs),
                |mut p| black_box(feed(&mut p, 0, &noise)),
                BatchSize::LargeInput,
            )
        });
        // The pipeline must really track: 8 SSBs per 20 ms, and 1 in the second recording.
        let n = ssb_decisions(fs, &cell);
        assert!(n >= 400, "only {n} SSB decisions at {fs}");
        let n = ssb_decisions(fs, &single);
        assert!(
            (50..=60).contains(&n),
            "{n} SSB decisions with one SSB per burst at {fs}"
        );
        let locked = &cell[warm..];
        g.throughput(Throughput::Elements(locked.len() as u64));
        // A locked cell: the first `warm` samples (acquisition) are fed in the setup.
        let mut track = |name: &str, rec: &[Complex32]| {
            g.bench_function(name, |b| {
                b.iter_batched(
                    || {
                        let mut p = pipeline(fs);
                        feed(&mut p, 0, &rec[..warm]);
                        p
                    },
                    |mut p| black_box(feed(&mut p, warm as u64, &rec[warm..])),
                    BatchSize::LargeInput,
                )
            });
        };
        track("track", &cell);
        // The premise: one SSB (4 symbols) every 20 ms.
        track("track_1ssb", &single);
        let mut dst = vec![Complex32::new(0.0, 0.0); BLOCK];
        g.bench_function("memcpy", |b| {
            b.iter(|| {
                for c in locked.chunks(BLOCK) {
                    dst[..c.len()].copy_from_slice(c);
                    black_box(&dst);
                }
            })
        });
        // One SSB window, as the tracker cuts it.
        let mut ex = SsbExtractor::new(fs, Scs::Khz30).expect("extractor");
        let mut dec = SsbDecoder::new(Scs::Khz30);
        let ratio = ex.ratio();
        let pss_t = first_ssb(fs) + CP_P as f64 * ratio;
        let pre = (ex.len_out() - SSB_LEN_P) as f64 / 2.0;
        let a = (pss_t - pre * ratio).floor() as usize;
        let raw = &cell[a..a + ex.len_in()];
        let expect = (pss_t - a as f64) / ratio;
        let mut win = vec![Complex32::new(0.0, 0.0); ex.len_out()];
        ex.extract(raw, a as u64, 0.0, &mut win);
        let obs = dec
            .decode(&mut win, expect, 5, 2, None)
            .expect("the SSB decodes");
        assert_eq!(obs.pci(), Some(500), "bench SSB");
        g.throughput(Throughput::Elements(1));
        g.bench_function("ssb", |b| {
            b.iter(|| {
                ex.extract(raw, a as u64, 0.0, &mut win);
                black_box(dec.decode(&mut win, expect, 5, 2, obs.n_id1))
            })
        });
        // The feature vector of that SSB (schema features, incl. the PSS/SSS residual).
        let report = ssbguard::rx::receiver::SsbReport {
            cell: ssbguard::rx::receiver::CellInfo {
                id: 0,
                pci: 500,
                scs: Scs::Khz30,
                offset_hz: 0.0,
                cfo_hz: 0.0,
                first_sample: 0.0,
                ssb_indices: vec![0],
                snr_db: 20.0,
                period_ms: Some(20),
            },
            ssb_index: Some(0),
            start: a as f64,
            len: SSB_LEN_P as f64 * ratio,
            found: true,
            obs: Some(obs),
            band_power_db: -40.0,
            neighbours: vec![],
        };
        g.bench_function("features", |b| {
            b.iter(|| black_box(ssbguard::features::extract(black_box(&report))))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
