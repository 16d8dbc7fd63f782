//! The `ssbguard` binary: parses the command line and calls into the library.
//! Exit codes (CONTRACTS §1): 0 success, 64 bad usage or config, 65 bad input data, 1 other.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use std::io::Write;

use num_complex::Complex32;
use ssbguard::detect::alert::AlertConfig;
use ssbguard::events::{AlertState, CellState, Event};
use ssbguard::features::baseline::{CellBaseline, SITE_FORMAT, SITE_VERSION, SiteBaseline};
use ssbguard::io::{DataType, EXIT_BAD_DATA, EXIT_OTHER, EXIT_USAGE, IqReader, RawFormat};
use ssbguard::nr::Scs;
use ssbguard::pipeline::{DetectorKind, Pipeline, PipelineConfig, PipelineError, SsbLocation};
use ssbguard::synth::{Scenario, SynthError, write_sigmf};

#[derive(Parser)]
#[command(
    name = "ssbguard",
    version,
    about = "Real-time 5G NR SSB jamming detector"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// How a recording is opened and where its SSB is (every file verb takes these).
#[derive(clap::Args, Clone)]
struct FileArgs {
    /// SigMF recording (X.sigmf-meta, X.sigmf-data or the stem X) or a raw file with --format.
    file: PathBuf,
    /// Raw sample format: cf32, ci16, ci8, cu8 (little endian). Needs --rate.
    #[arg(long)]
    format: Option<String>,
    /// Raw sample rate, Hz.
    #[arg(long)]
    rate: Option<f64>,
    /// Recording centre frequency, Hz (raw files; overrides SigMF).
    #[arg(long)]
    center_freq: Option<f64>,
    /// Absolute SSB centre frequency, Hz (needs the centre frequency).
    #[arg(long, conflicts_with = "ssb_offset")]
    ssb_freq: Option<f64>,
    /// SSB centre minus recording centre, Hz.
    #[arg(long, allow_hyphen_values = true)]
    ssb_offset: Option<f64>,
    /// Subcarrier spacing, kHz (15 or 30). Default: try both.
    #[arg(long)]
    scs: Option<u32>,
}

#[derive(Subcommand)]
enum Cmd {
    /// The daemon. Without --config: the embedded demo (a synthetic cell whose jammer
    /// switches on and off) served on 127.0.0.1:9797.
    Run {
        /// Configuration (TOML; see config/ssbguard.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate a configuration: lists every problem, exits 0 or 64.
    CheckConfig {
        /// Configuration file.
        file: PathBuf,
    },
    /// Run the detection pipeline over a recording and print JSON lines (CONTRACTS §2).
    Replay {
        #[command(flatten)]
        input: FileArgs,
        /// Detector: dtddnn (default), single, rawiq (models from --models) or classic
        /// (no files; the site-baseline threshold detector).
        #[arg(long, default_value = "dtddnn")]
        detector: String,
        /// Models folder (ONNX files and model cards); default: the models built into this
        /// binary (the shipped `models/`).
        #[arg(long)]
        models: Option<PathBuf>,
        /// fast (as fast as possible) or realtime (paced to the sample rate).
        #[arg(long, default_value = "fast")]
        pace: String,
        /// Attach the feature vector to each decision.
        #[arg(long)]
        features: bool,
        /// Raise after K of the last N jammed decisions.
        #[arg(long, default_value_t = 3)]
        raise_k: u32,
        /// Window N for raising.
        #[arg(long, default_value_t = 8)]
        raise_n: u32,
        /// Clear after M consecutive clean decisions.
        #[arg(long, default_value_t = 8)]
        clear_m: u32,
        /// Also raise when one SSB index is jammed in this many consecutive bursts (0: off).
        #[arg(long, default_value_t = 3)]
        raise_same_index: u32,
        /// Start each cell from this saved site baseline (ssbguard calibrate) instead of
        /// calibrating on the recording's first SSBs.
        #[arg(long)]
        baseline: Option<PathBuf>,
    },
    /// Learn the site baseline from a recording known to be clean and save it (JSON) for
    /// replay --baseline and the daemon.
    Calibrate {
        #[command(flatten)]
        input: FileArgs,
        /// Output file.
        #[arg(long, default_value = "baseline.json")]
        out: PathBuf,
        /// Save even if the recording raised a jamming alert (it should be clean).
        #[arg(long)]
        force: bool,
    },
    /// Training data: scenarios from models/splits.toml through the same pipeline, as .npz.
    Dataset {
        /// Output folder.
        #[arg(long, default_value = "out/dataset")]
        out: PathBuf,
        /// Splits to write (comma separated: train,val,test).
        #[arg(long, default_value = "train,val,test")]
        splits: String,
        /// Use only the first N seeds of each split.
        #[arg(long)]
        limit: Option<usize>,
        /// Worker threads.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Do not write the raw-IQ model input.
        #[arg(long)]
        no_iq: bool,
        /// The splits file.
        #[arg(long, default_value = "models/splits.toml")]
        splits_file: PathBuf,
    },
    /// Offline evaluation of every detector on the test seeds (eval/report.md + JSON + SVG).
    Eval {
        /// Report folder.
        #[arg(long, default_value = "eval")]
        out: PathBuf,
        /// Models folder.
        #[arg(long, default_value = "models")]
        models: PathBuf,
        /// Detectors (comma separated).
        #[arg(long, default_value = "dtddnn,single,rawiq,classic")]
        detectors: String,
        /// Use only the first N test seeds.
        #[arg(long)]
        test_limit: Option<usize>,
        /// Use only the first N validation seeds.
        #[arg(long)]
        val_limit: Option<usize>,
        /// Worker threads.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
    },
    /// Blind cell search: one JSON line per cell found.
    Cells {
        #[command(flatten)]
        input: FileArgs,
        /// Search at most this much of the recording, s.
        #[arg(long, default_value_t = 0.05)]
        max_seconds: f64,
    },
    /// Render a scenario (TOML) to PREFIX.sigmf-meta + PREFIX.sigmf-data with ground truth.
    Synth {
        /// Scenario file (see config/scenarios/README.md).
        #[arg(long)]
        scenario: PathBuf,
        /// Output prefix.
        #[arg(long)]
        out: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
    },
}

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    msg: String,
}

impl Failure {
    fn new(code: i32, msg: impl Into<String>) -> Self {
        Failure {
            code: code as u8,
            msg: msg.into(),
        }
    }
}

fn synth(scenario: PathBuf, out: PathBuf, seed: Option<u64>) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&scenario)
        .map_err(|e| Failure::new(EXIT_USAGE, format!("{}: {e}", scenario.display())))?;
    let mut scn = Scenario::from_toml(&text)
        .map_err(|e| Failure::new(EXIT_USAGE, format!("{}: {e}", scenario.display())))?;
    if let Some(s) = seed {
        scn.seed = s;
    }
    let t0 = std::time::Instant::now();
    match write_sigmf(&scn, &out) {
        Ok((meta, clipped)) => {
            let secs = t0.elapsed().as_secs_f64();
            let n = scn.total_samples();
            eprintln!(
                "wrote {}.sigmf-data ({} samples, {} annotations, {:.1}x real time{})",
                out.display(),
                n,
                meta.annotations.len(),
                scn.duration_s / secs.max(1e-9),
                if clipped > 0 {
                    format!(", {clipped} samples clipped")
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        Err(SynthError::Invalid(e)) => Err(Failure::new(
            EXIT_USAGE,
            format!("{}: {e}", scenario.display()),
        )),
        Err(e @ SynthError::NoOverlap { .. }) => Err(Failure::new(
            EXIT_USAGE,
            format!("{}: {e}", scenario.display()),
        )),
        Err(SynthError::Io(e)) => Err(Failure::new(e.exit_code(), e.to_string())),
    }
}

fn open_input(a: &FileArgs) -> Result<(IqReader, PipelineConfig), Failure> {
    let raw = match (&a.format, a.rate) {
        (Some(f), Some(rate)) => {
            let datatype: DataType = f
                .parse()
                .map_err(|e| Failure::new(EXIT_USAGE, format!("--format: {e}")))?;
            Some(RawFormat {
                datatype,
                sample_rate_hz: rate,
                center_freq_hz: a.center_freq,
            })
        }
        (Some(_), None) => return Err(Failure::new(EXIT_USAGE, "--format needs --rate")),
        (None, Some(_)) => {
            return Err(Failure::new(
                EXIT_USAGE,
                "--rate needs --format (SigMF files carry their rate)",
            ));
        }
        (None, None) => None,
    };
    let reader = IqReader::open(&a.file, raw.as_ref())
        .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
    let center = a.center_freq.or(reader.center_freq_hz());
    let scs = match a.scs {
        None => None,
        Some(k) => Some(
            Scs::from_khz(k)
                .ok_or_else(|| Failure::new(EXIT_USAGE, format!("--scs {k}: must be 15 or 30")))?,
        ),
    };
    let ssb = match (a.ssb_freq, a.ssb_offset) {
        (Some(f), _) => {
            let c = center.ok_or_else(|| {
                Failure::new(
                    EXIT_USAGE,
                    "--ssb-freq needs the recording's centre frequency (--center-freq)",
                )
            })?;
            SsbLocation::Given {
                offset_hz: f - c,
                scs,
            }
        }
        (None, Some(o)) => SsbLocation::Given { offset_hz: o, scs },
        // A recording that says where its cell is (a `synth` file) is read the way the
        // daemon's file source reads it; otherwise search the raster.
        (None, None) => match ssbguard::source::file::ssb_hint(reader.meta(), center) {
            Some(h) => SsbLocation::Given {
                offset_hz: h.offset_hz,
                scs: scs.or(Scs::from_khz(h.scs_khz)),
            },
            None => SsbLocation::Raster { scs },
        },
    };
    let cfg = PipelineConfig {
        sample_rate_hz: reader.sample_rate_hz(),
        center_freq_hz: center,
        ssb,
        detector: DetectorKind::Classic,
        alert: AlertConfig::default(),
        emit_features: false,
    };
    Ok((reader, cfg))
}

fn pipeline_failure(e: PipelineError) -> Failure {
    Failure::new(EXIT_USAGE, e.to_string())
}

/// Reads `reader` to its end through `pipe` (blocks from sample 0, then `finish`), handing
/// each block's new events and the samples read so far to `each`; `last` is true for the
/// call after `finish`. Returns the number of samples read.
fn drive(
    reader: &mut IqReader,
    pipe: &mut Pipeline,
    mut each: impl FnMut(&Pipeline, &mut Vec<Event>, u64, bool) -> Result<(), Failure>,
) -> Result<u64, Failure> {
    let mut buf = vec![Complex32::new(0.0, 0.0); 1 << 15];
    let mut events = Vec::new();
    let mut pos = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
        if n == 0 {
            break;
        }
        pipe.push(pos, &buf[..n], &mut events);
        pos += n as u64;
        each(pipe, &mut events, pos, false)?;
    }
    pipe.finish(&mut events);
    each(pipe, &mut events, pos, true)?;
    Ok(pos)
}

/// `ssbguard calibrate`: the pipeline over a clean recording, then its per-cell baselines.
fn calibrate(input: FileArgs, out: PathBuf, force: bool) -> Result<(), Failure> {
    let (mut reader, cfg) = open_input(&input)?;
    let (fs, center) = (cfg.sample_rate_hz, cfg.center_freq_hz);
    let mut pipe = Pipeline::new(cfg).map_err(pipeline_failure)?;
    let mut alerts = 0u64;
    let mut count = |events: &mut Vec<Event>| {
        alerts += events
            .drain(..)
            .filter(|e| matches!(e, Event::Alert(a) if a.state == AlertState::Raised))
            .count() as u64;
    };
    let mut baselines = Vec::new();
    let pos = drive(&mut reader, &mut pipe, |pipe, events, _, last| {
        count(events);
        // Keep the latest estimate of every cell seen (a cell lost before the end of the
        // recording keeps what it had learned).
        if !last {
            for (pci, b) in pipe.baselines() {
                match baselines.iter_mut().find(|(p, _)| *p == pci) {
                    Some(e) => e.1 = b,
                    None => baselines.push((pci, b)),
                }
            }
        }
        Ok(())
    })?;
    if baselines.is_empty() {
        return Err(Failure::new(
            EXIT_BAD_DATA,
            format!(
                "no cell was tracked for {} SSBs in {:.3} s of input: nothing to calibrate",
                ssbguard::pipeline::CALIBRATION_SSBS,
                pos as f64 / fs
            ),
        ));
    }
    if alerts > 0 && !force {
        return Err(Failure::new(
            EXIT_BAD_DATA,
            format!(
                "{alerts} jamming alert(s) were raised while calibrating: the recording does not look clean (use --force to save anyway)"
            ),
        ));
    }
    baselines.sort_by_key(|(p, _)| *p);
    let site = SiteBaseline {
        format: SITE_FORMAT.into(),
        version: SITE_VERSION,
        feature_schema_version: ssbguard::features::SCHEMA_VERSION,
        source: input.file.display().to_string(),
        sample_rate_hz: fs,
        center_freq_hz: center,
        cells: baselines
            .into_iter()
            .map(|(pci, baseline)| CellBaseline { pci, baseline })
            .collect(),
    };
    site.save(&out)
        .map_err(|e| Failure::new(EXIT_OTHER, format!("{}: {e}", out.display())))?;
    let summary = serde_json::json!({
        "type": "calibration",
        "out": out.display().to_string(),
        "samples": pos,
        "alerts": alerts,
        "cells": site.cells.iter().map(|c| serde_json::json!({
            "pci": c.pci,
            "ssbs": c.baseline.count,
            "epnre_db": c.baseline.epnre_db,
            "snr_db": c.baseline.snr_db,
            "band_power_dbfs": c.baseline.band_power_dbfs,
        })).collect::<Vec<_>>(),
    });
    println!("{summary}");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn replay(
    input: FileArgs,
    detector: String,
    models: Option<PathBuf>,
    pace: String,
    features: bool,
    alert: AlertConfig,
    baseline: Option<PathBuf>,
) -> Result<(), Failure> {
    if let Some(q) = alert.problems().first() {
        return Err(Failure::new(
            EXIT_USAGE,
            format!(
                "--{}: {} is out of range: allowed {}",
                q.field.replace('_', "-"),
                q.value,
                q.allowed
            ),
        ));
    }
    let site = baseline
        .map(|p| SiteBaseline::load(&p).map_err(|e| Failure::new(EXIT_USAGE, e.to_string())))
        .transpose()?;
    let model = match detector.as_str() {
        "classic" => None,
        kind => Some(
            ssbguard::detect::dnn::load(kind, &ssbguard::detect::dnn::Models::from_option(models))
                .map_err(|e| Failure::new(EXIT_USAGE, format!("--detector {kind}: {e}")))?,
        ),
    };
    let realtime = match pace.as_str() {
        "fast" => false,
        "realtime" => true,
        p => {
            return Err(Failure::new(
                EXIT_USAGE,
                format!("--pace {p}: use fast or realtime"),
            ));
        }
    };
    let (mut reader, mut cfg) = open_input(&input)?;
    cfg.emit_features = features;
    cfg.alert = alert;
    let fs = cfg.sample_rate_hz;
    let mut pipe = Pipeline::new(cfg).map_err(pipeline_failure)?;
    if let Some(m) = model {
        pipe.set_model(m);
    }
    if let Some(site) = &site {
        pipe.set_site_baseline(site)
            .map_err(|e| Failure::new(EXIT_USAGE, format!("--baseline: {e}")))?;
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let (mut decisions, mut jammed, mut alerts) = (0u64, 0u64, 0u64);
    let t0 = std::time::Instant::now();
    let mut write = |events: &mut Vec<Event>,
                     w: &mut std::io::BufWriter<std::io::StdoutLock>|
     -> Result<(), Failure> {
        for e in events.drain(..) {
            match &e {
                Event::Decision(d) => {
                    decisions += 1;
                    jammed += d.jammed as u64;
                }
                Event::Alert(_) => alerts += 1,
                Event::Cell(_) => {}
            }
            writeln!(w, "{}", e.to_json())
                .map_err(|e| Failure::new(EXIT_OTHER, format!("stdout: {e}")))?;
        }
        Ok(())
    };
    let pos = drive(&mut reader, &mut pipe, |_, events, pos, _| {
        write(events, &mut w)?;
        if realtime {
            let due = std::time::Duration::from_secs_f64(pos as f64 / fs);
            let el = t0.elapsed();
            if due > el {
                w.flush()
                    .map_err(|e| Failure::new(EXIT_OTHER, format!("stdout: {e}")))?;
                std::thread::sleep(due - el);
            }
        }
        Ok(())
    })?;
    let wall = t0.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "type": "summary",
        "samples": pos,
        "decisions": decisions,
        "jammed": jammed,
        "alerts": alerts,
        "discontinuities": pipe.status().discontinuities,
        "wall_s": (wall * 1e4).round() / 1e4,
        "realtime_factor": ((pos as f64 / fs) / wall.max(1e-9) * 100.0).round() / 100.0,
    });
    writeln!(w, "{summary}").map_err(|e| Failure::new(EXIT_OTHER, format!("stdout: {e}")))?;
    Ok(())
}

fn dataset(
    out: PathBuf,
    splits: String,
    limit: Option<usize>,
    jobs: usize,
    no_iq: bool,
    splits_file: PathBuf,
) -> Result<(), Failure> {
    let splits = splits
        .split(',')
        .map(|s| {
            ssbguard::dataset::Split::parse(s)
                .ok_or_else(|| Failure::new(EXIT_USAGE, format!("--splits: unknown split {s:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let a = ssbguard::dataset::DatasetArgs {
        out_dir: out,
        splits_file,
        splits,
        limit,
        jobs: jobs.max(1),
        with_iq: !no_iq,
    };
    ssbguard::dataset::run(&a)
        .map(|_| ())
        .map_err(|e| Failure::new(EXIT_OTHER, e.to_string()))
}

fn eval(
    out: PathBuf,
    models: PathBuf,
    detectors: String,
    test_limit: Option<usize>,
    val_limit: Option<usize>,
    jobs: usize,
) -> Result<(), Failure> {
    let mut a = ssbguard::eval::EvalArgs::new(std::path::Path::new("."));
    a.out_dir = out;
    a.splits_file = models.join("splits.toml");
    a.models_dir = models;
    a.detectors = detectors.split(',').map(str::to_string).collect();
    a.test_limit = test_limit;
    a.val_limit = val_limit;
    a.jobs = jobs.max(1);
    ssbguard::eval::run(&a)
        .map(|_| ())
        .map_err(|e| Failure::new(EXIT_OTHER, e.to_string()))
}

fn cells(input: FileArgs, max_seconds: f64) -> Result<(), Failure> {
    let (mut reader, cfg) = open_input(&input)?;
    let fs = cfg.sample_rate_hz;
    let mut pipe = Pipeline::new(cfg).map_err(pipeline_failure)?;
    let limit = (max_seconds.max(0.0) * fs) as u64 + 1;
    let mut buf = vec![Complex32::new(0.0, 0.0); 1 << 15];
    let mut events = Vec::new();
    let mut pos = 0u64;
    let mut found: Vec<ssbguard::events::CellEvent> = Vec::new();
    let mut note = |events: &mut Vec<Event>| {
        for e in events.drain(..) {
            if let Event::Cell(c) = e
                && c.event == CellState::Found
                && !found
                    .iter()
                    .any(|f| f.pci == c.pci && f.ssb_offset_hz == c.ssb_offset_hz)
            {
                found.push(c);
            }
        }
    };
    while pos < limit {
        let want = ((limit - pos) as usize).min(buf.len());
        let n = reader
            .read(&mut buf[..want])
            .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
        if n == 0 {
            break;
        }
        pipe.push(pos, &buf[..n], &mut events);
        pos += n as u64;
        note(&mut events);
    }
    pipe.finish(&mut events);
    note(&mut events);
    // Final facts (SSB indices and SNR grow while tracking).
    let status = pipe.status().cells.clone();
    for mut c in found {
        if let Some(s) = status.iter().find(|s| s.pci == c.pci) {
            c.snr_db = (s.snr_db * 100.0).round() / 100.0;
            c.cfo_hz = (s.cfo_hz * 10.0).round() / 10.0;
        }
        println!("{}", Event::Cell(c).to_json());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    let result = match cli.cmd {
        Cmd::Run { config } => {
            ssbguard::daemon::run(config).map_err(|e| Failure::new(e.exit_code(), e.to_string()))
        }
        Cmd::CheckConfig { file } => match ssbguard::daemon::check_config(&file) {
            Ok(()) => {
                println!("{}: ok", file.display());
                Ok(())
            }
            Err(e) => Err(Failure::new(
                ssbguard::daemon::config::ConfigErrors::EXIT_CODE,
                e.to_string(),
            )),
        },
        Cmd::Synth {
            scenario,
            out,
            seed,
        } => synth(scenario, out, seed),
        Cmd::Replay {
            input,
            detector,
            models,
            pace,
            features,
            raise_k,
            raise_n,
            clear_m,
            raise_same_index,
            baseline,
        } => replay(
            input,
            detector,
            models,
            pace,
            features,
            AlertConfig {
                raise_k,
                raise_n,
                clear_m,
                raise_same_index,
            },
            baseline,
        ),
        Cmd::Calibrate { input, out, force } => calibrate(input, out, force),
        Cmd::Dataset {
            out,
            splits,
            limit,
            jobs,
            no_iq,
            splits_file,
        } => dataset(out, splits, limit, jobs, no_iq, splits_file),
        Cmd::Eval {
            out,
            models,
            detectors,
            test_limit,
            val_limit,
            jobs,
        } => eval(out, models, detectors, test_limit, val_limit, jobs),
        Cmd::Cells { input, max_seconds } => cells(input, max_seconds),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("ssbguard: {}", f.msg);
            ExitCode::from(if f.code == 0 {
                EXIT_OTHER as u8
            } else {
                f.code
            })
        }
    }
}
