//! The receiver on the real over-the-air captures in `SSBGUARD_CAPTURES`
//! (default `../shared/captures`): the right PCI where there is an SSB, nothing where
//! there is none.

use std::path::PathBuf;

use num_complex::Complex32;
use ssbguard::io::IqReader;
use ssbguard::nr::Scs;
use ssbguard::rx::pss_search::Candidate;
use ssbguard::rx::receiver::{Receiver, ReceiverConfig, RxEvent};

fn captures() -> Option<(PathBuf, Vec<serde_json::Value>)> {
    let dir = std::env::var_os("SSBGUARD_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures"));
    let manifest = dir.join("manifest.json");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        eprintln!(
            "skipping: no captures at {} (set SSBGUARD_CAPTURES)",
            manifest.display()
        );
        return None;
    };
    let v: Vec<serde_json::Value> = serde_json::from_str(&text).expect("manifest.json parses");
    Some((dir, v))
}

fn run(path: &std::path::Path, cands: Vec<Candidate>) -> Vec<RxEvent> {
    let mut r = IqReader::open(path, None).expect("capture opens");
    let cfg = ReceiverConfig::new(r.sample_rate_hz(), r.center_freq_hz(), cands);
    let mut rx = Receiver::new(cfg).expect("receiver");
    let mut buf = vec![Complex32::new(0.0, 0.0); 10_000];
    let mut out = Vec::new();
    let mut pos = 0u64;
    loop {
        let n = r.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        rx.push(pos, &buf[..n], &mut out);
        pos += n as u64;
    }
    rx.finish(&mut out);
    out
}

#[test]
fn right_pci_with_given_ssb_frequency() {
    let Some((dir, manifest)) = captures() else {
        return;
    };
    for m in manifest {
        let name = m["name"].as_str().unwrap();
        let path = dir.join(name);
        let scs = Scs::from_khz(m["scs_khz"].as_u64().unwrap() as u32).unwrap();
        let Some(off) = m["ssb_offset_hz"].as_f64() else {
            // The file without an SSB: search where a cell of its carrier would be.
            let ev = run(
                &path,
                vec![Candidate {
                    offset_hz: 0.0,
                    scs,
                }],
            );
            let found: Vec<_> = ev
                .iter()
                .filter(|e| matches!(e, RxEvent::CellFound(_)))
                .collect();
            assert!(found.is_empty(), "{name}: found {found:?}");
            continue;
        };
        let ev = run(
            &path,
            vec![Candidate {
                offset_hz: off,
                scs,
            }],
        );
        let pcis: Vec<u16> = ev
            .iter()
            .filter_map(|e| match e {
                RxEvent::CellFound(c) => Some(c.pci),
                _ => None,
            })
            .collect();
        let want = m["pci"].as_u64().unwrap() as u16;
        eprintln!("{name}: cells {pcis:?}");
        for e in &ev {
            if let RxEvent::Ssb(s) = e {
                let o = s.obs.as_ref().unwrap();
                eprintln!(
                    "  ssb pci {} idx {:?} start {:.1} found {} pss {:.2} sss {:.2} dmrs {:.2}/{:.2} snr {:.1} cfo {:.0}",
                    s.cell.pci,
                    s.ssb_index,
                    s.start,
                    s.found,
                    o.pss_rho2,
                    o.sss_rho2,
                    o.dmrs_metric.0,
                    o.dmrs_metric.1,
                    o.snr_db,
                    s.cell.cfo_hz
                );
            }
        }
        assert_eq!(pcis, vec![want], "{name}");
    }
}

fn pipeline_events(
    path: &std::path::Path,
    ssb: ssbguard::pipeline::SsbLocation,
) -> Vec<ssbguard::events::Event> {
    use ssbguard::pipeline::{DetectorKind, Pipeline, PipelineConfig};
    let mut r = IqReader::open(path, None).expect("capture opens");
    let cfg = PipelineConfig {
        sample_rate_hz: r.sample_rate_hz(),
        center_freq_hz: r.center_freq_hz(),
        ssb,
        detector: DetectorKind::Classic,
        alert: ssbguard::detect::alert::AlertConfig::default(),
        emit_features: false,
    };
    let mut p = Pipeline::new(cfg).expect("pipeline");
    let mut buf = vec![Complex32::new(0.0, 0.0); 8192];
    let mut out = Vec::new();
    let mut pos = 0u64;
    loop {
        let n = r.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        p.push(pos, &buf[..n], &mut out);
        pos += n as u64;
    }
    p.finish(&mut out);
    out
}

#[test]
fn blind_raster_search_finds_exactly_the_right_cells() {
    use ssbguard::events::{CellState, Event};
    use ssbguard::pipeline::SsbLocation;
    let Some((dir, manifest)) = captures() else {
        return;
    };
    for m in manifest {
        let name = m["name"].as_str().unwrap();
        let ev = pipeline_events(&dir.join(name), SsbLocation::Raster { scs: None });
        let found: Vec<(u16, i64)> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Cell(c) if c.event == CellState::Found => {
                    Some((c.pci, c.ssb_freq_hz.unwrap_or(0.0).round() as i64))
                }
                _ => None,
            })
            .collect();
        eprintln!("{name}: {found:?}");
        match (m["pci"].as_u64(), m["ssb_center_freq_hz"].as_f64()) {
            (Some(pci), Some(f)) => {
                assert_eq!(found, vec![(pci as u16, f.round() as i64)], "{name}")
            }
            _ => assert!(
                found.is_empty(),
                "{name}: found {found:?} in a file with no SSB"
            ),
        }
    }
}

#[test]
fn no_jamming_on_any_real_capture() {
    use ssbguard::events::Event;
    use ssbguard::pipeline::SsbLocation;
    let Some((dir, manifest)) = captures() else {
        return;
    };
    for m in manifest {
        let name = m["name"].as_str().unwrap();
        let scs = Scs::from_khz(m["scs_khz"].as_u64().unwrap() as u32);
        let ssb = match m["ssb_offset_hz"].as_f64() {
            Some(o) => SsbLocation::Given { offset_hz: o, scs },
            None => SsbLocation::Raster { scs: None },
        };
        let ev = pipeline_events(&dir.join(name), ssb);
        let decisions: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Decision(d) => Some(d),
                _ => None,
            })
            .collect();
        let alerts = ev.iter().filter(|e| matches!(e, Event::Alert(_))).count();
        eprintln!(
            "{name}: {} decisions, scores {:?}",
            decisions.len(),
            decisions.iter().map(|d| d.score).collect::<Vec<_>>()
        );
        assert!(!decisions.is_empty(), "{name}: no decision at all");
        assert!(
            decisions.iter().all(|d| !d.jammed),
            "{name}: jammed decision"
        );
        assert_eq!(alerts, 0, "{name}: alert");
    }
}
