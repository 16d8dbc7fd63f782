//! The `ssbguard` binary: parses the command line and calls into the library.
//! Exit codes (CONTRACTS §1): 0 success, 64 bad usage or config, 65 bad input data, 1 other.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use ssbguard::io::{EXIT_OTHER, EXIT_USAGE};
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

#[derive(Subcommand)]
enum Cmd {
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
        Cmd::Synth {
            scenario,
            out,
            seed,
        } => synth(scenario, out, seed),
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
