//! Stand-in for the `ssbguard dataset` / `ssbguard eval` verbs until the CLI wires them
//! (`training/train.sh` uses it). Calls the same library functions the verbs will:
//! [`ssbguard::dataset::run`] and [`ssbguard::eval::run`].
//!
//! ```text
//! cargo run --release --example ml -- dataset [--out out/dataset] [--splits train,val,test]
//!     [--limit N] [--jobs N] [--no-iq]
//! cargo run --release --example ml -- eval [--out eval] [--models models]
//!     [--detectors dtddnn,single,rawiq,classic] [--test-limit N] [--val-limit N] [--jobs N]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use ssbguard::dataset::{DatasetArgs, Split};
use ssbguard::eval::EvalArgs;

fn usage(msg: &str) -> ExitCode {
    eprintln!("ml: {msg}\nusage: ml dataset|eval [options] (see examples/ml.rs)");
    ExitCode::from(64)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(verb) = args.first() else {
        return usage("missing verb");
    };
    let mut opts = std::collections::HashMap::new();
    let mut flags = std::collections::HashSet::new();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--no-iq" {
            flags.insert(a.clone());
            i += 1;
        } else if a.starts_with("--") && i + 1 < args.len() {
            opts.insert(a.clone(), args[i + 1].clone());
            i += 2;
        } else {
            return usage(&format!("unexpected argument {a:?}"));
        }
    }
    let num = |k: &str| -> Result<Option<usize>, String> {
        opts.get(k)
            .map(|v| v.parse::<usize>().map_err(|e| format!("{k} {v:?}: {e}")))
            .transpose()
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match verb.as_str() {
        "dataset" => {
            let splits: Result<Vec<Split>, String> = opts
                .get("--splits")
                .map_or("train,val,test", |s| s.as_str())
                .split(',')
                .map(|s| Split::parse(s).ok_or_else(|| format!("unknown split {s:?}")))
                .collect();
            let (splits, limit, jobs) = match (splits, num("--limit"), num("--jobs")) {
                (Ok(s), Ok(l), Ok(j)) => (s, l, j.unwrap_or(1)),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return usage(&e),
            };
            let a = DatasetArgs {
                out_dir: opts
                    .get("--out")
                    .map_or(root.join("out/dataset"), PathBuf::from),
                splits_file: root.join("models/splits.toml"),
                splits,
                limit,
                jobs,
                with_iq: !flags.contains("--no-iq"),
            };
            match ssbguard::dataset::run(&a) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ml dataset: {e}");
                    ExitCode::from(1)
                }
            }
        }
        "eval" => {
            let mut a = EvalArgs::new(&root);
            if let Some(o) = opts.get("--out") {
                a.out_dir = PathBuf::from(o);
            }
            if let Some(m) = opts.get("--models") {
                a.models_dir = PathBuf::from(m);
            }
            if let Some(d) = opts.get("--detectors") {
                a.detectors = d.split(',').map(|s| s.to_string()).collect();
            }
            match (num("--test-limit"), num("--val-limit"), num("--jobs")) {
                (Ok(t), Ok(v), Ok(j)) => {
                    a.test_limit = t;
                    a.val_limit = v;
                    a.jobs = j.unwrap_or(1);
                }
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return usage(&e),
            }
            match ssbguard::eval::run(&a) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ml eval: {e}");
                    ExitCode::from(1)
                }
            }
        }
        other => usage(&format!("unknown verb {other:?}")),
    }
}
