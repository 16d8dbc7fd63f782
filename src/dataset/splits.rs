//! `models/splits.toml`: the seed range of each split, disjoint by check.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A split of the dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Fitting the models.
    Train,
    /// Choosing thresholds and stopping.
    Val,
    /// Reporting only.
    Test,
}

impl Split {
    /// All splits.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// File-name stem.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    /// Parses `train`, `val` or `test`.
    pub fn parse(s: &str) -> Option<Split> {
        Split::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// One range of seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRange {
    /// First seed.
    pub first_seed: u64,
    /// How many consecutive seeds.
    pub count: u64,
}

/// The splits file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Splits {
    /// Training seeds.
    pub train: SeedRange,
    /// Validation seeds.
    pub val: SeedRange,
    /// Test seeds.
    pub test: SeedRange,
}

/// Problems with the splits file.
#[derive(Debug, thiserror::Error)]
pub enum SplitsError {
    /// Unreadable.
    #[error("{path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML for the format.
    #[error("{path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Ranges overlap or are empty.
    #[error("{path}: {message}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// Every problem.
        message: String,
    },
}

impl Splits {
    /// Parses and checks.
    pub fn parse(text: &str, path: &Path) -> Result<Splits, SplitsError> {
        let s: Splits = toml::from_str(text).map_err(|e| SplitsError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut problems = Vec::new();
        let r = [
            (Split::Train, s.train),
            (Split::Val, s.val),
            (Split::Test, s.test),
        ];
        for (sp, x) in r {
            if x.count == 0 {
                problems.push(format!("[{}] count = 0", sp.name()));
            }
            if x.first_seed.checked_add(x.count).is_none() {
                problems.push(format!("[{}] first_seed + count overflows", sp.name()));
            }
        }
        for i in 0..3 {
            for j in i + 1..3 {
                let (a, b) = (r[i].1, r[j].1);
                let (a_end, b_end) = (
                    a.first_seed.saturating_add(a.count),
                    b.first_seed.saturating_add(b.count),
                );
                if a.first_seed < b_end && b.first_seed < a_end {
                    problems.push(format!(
                        "[{}] and [{}] share seeds",
                        r[i].0.name(),
                        r[j].0.name()
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(s)
        } else {
            Err(SplitsError::Invalid {
                path: path.to_path_buf(),
                message: problems.join("; "),
            })
        }
    }

    /// Loads `path`.
    pub fn load(path: &Path) -> Result<Splits, SplitsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SplitsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// The seeds of `split`.
    pub fn seeds(&self, split: Split) -> Vec<u64> {
        let r = match split {
            Split::Train => self.train,
            Split::Val => self.val,
            Split::Test => self.test,
        };
        (r.first_seed..r.first_seed + r.count).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_splits_are_disjoint_and_load() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/splits.toml");
        let s = Splits::load(&p).expect("models/splits.toml");
        let a: std::collections::HashSet<u64> = s.seeds(Split::Train).into_iter().collect();
        assert!(s.seeds(Split::Val).iter().all(|x| !a.contains(x)));
        assert!(s.seeds(Split::Test).iter().all(|x| !a.contains(x)));
    }

    #[test]
    fn overlapping_ranges_are_refused() {
        let t = "[train]\nfirst_seed = 0\ncount = 10\n[val]\nfirst_seed = 5\ncount = 3\n[test]\nfirst_seed = 100\ncount = 0\n";
        let e = Splits::parse(t, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("[train] and [val] share seeds"), "{e}");
        assert!(e.contains("[test] count = 0"), "{e}");
    }
}
