//! Prints the ratios that the engine's performance bars are stated in, from
//! the medians of the last `cargo bench` run.
//!
//! Run after `cargo bench -p qrnm-benches --bench primitives --bench engine`:
//!
//! ```sh
//! cargo run --release -p qrnm-benches --bin bench-ratios [CRITERION_DIR]
//! ```
//!
//! `CRITERION_DIR` defaults to `target/criterion`. Exits with status 1 when a
//! benchmark that a ratio needs has no stored result.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use qrnm_benches::read_medians;

/// Primitive operations of one hybrid 1 KiB seal, as measured in the
/// `hybrid-1024-parts` group.
const SEAL_PARTS: [&str; 5] = [
    "hybrid-1024-parts/x-wing-encapsulate",
    "hybrid-1024-parts/ed25519-sign",
    "hybrid-1024-parts/ml-dsa-65-sign",
    "hybrid-1024-parts/aead-seal",
    "hybrid-1024-parts/blake3-seal",
];

/// Primitive operations of one hybrid 1 KiB open.
const OPEN_PARTS: [&str; 5] = [
    "hybrid-1024-parts/x-wing-decapsulate",
    "hybrid-1024-parts/ed25519-verify",
    "hybrid-1024-parts/ml-dsa-65-verify",
    "hybrid-1024-parts/aead-open",
    "hybrid-1024-parts/blake3-open",
];

/// One ratio with the direction of its bar.
struct Bar {
    name: &'static str,
    value: f64,
    limit: f64,
    at_most: bool,
}

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/criterion"), PathBuf::from);
    let medians = match read_medians(&dir) {
        Ok(medians) => medians,
        Err(e) => {
            eprintln!(
                "error: cannot read criterion results in {}: {e}",
                dir.display()
            );
            return ExitCode::FAILURE;
        }
    };

    match compute_bars(&medians) {
        Ok(bars) => {
            print_bars(&bars);
            ExitCode::SUCCESS
        }
        Err(missing) => {
            eprintln!(
                "error: no stored result for benchmark {missing:?} in {}",
                dir.display()
            );
            eprintln!("run `cargo bench -p qrnm-benches --bench primitives --bench engine` first");
            ExitCode::FAILURE
        }
    }
}

fn compute_bars(medians: &BTreeMap<String, f64>) -> Result<Vec<Bar>, String> {
    let get = |id: &str| medians.get(id).copied().ok_or_else(|| id.to_owned());
    let sum = |ids: &[&str]| ids.iter().map(|id| get(id)).sum::<Result<f64, String>>();

    let seal_parts = sum(&SEAL_PARTS)?;
    let open_parts = sum(&OPEN_PARTS)?;
    let single = get("ed25519/verify-1024/single-strict")?;
    let batch = get("ed25519/verify-1024/batch-cofactored")?;

    Ok(vec![
        Bar {
            name: "hybrid seal / sum of its primitive operations",
            value: get("hybrid-1024-parts/seal")? / seal_parts,
            limit: 1.15,
            at_most: true,
        },
        Bar {
            name: "hybrid open / sum of its primitive operations",
            value: get("hybrid-1024-parts/open")? / open_parts,
            limit: 1.15,
            at_most: true,
        },
        Bar {
            name: "open_many speed-up, 2 threads over 1",
            value: get("open_many-hybrid-1024/threads-1")?
                / get("open_many-hybrid-1024/threads-2")?,
            limit: 1.8,
            at_most: false,
        },
        Bar {
            name: "seal_many speed-up, 2 threads over 1 (no bar)",
            value: get("seal_many-hybrid-1024/threads-1")?
                / get("seal_many-hybrid-1024/threads-2")?,
            limit: f64::NAN,
            at_most: false,
        },
        Bar {
            name: "Ed25519 batch verification / single strict, per signature",
            value: batch / single,
            limit: 0.7,
            at_most: true,
        },
        Bar {
            name: "hybrid 1 KiB seal speed-up, default over baseline backends",
            value: get("seal-hybrid-1024/baseline")? / get("seal-hybrid-1024/default")?,
            limit: 1.25,
            at_most: false,
        },
    ])
}

fn print_bars(bars: &[Bar]) {
    for bar in bars {
        let verdict = if bar.limit.is_nan() {
            String::new()
        } else if (bar.at_most && bar.value <= bar.limit)
            || (!bar.at_most && bar.value >= bar.limit)
        {
            format!(
                "  (bar {} {:.2}: met)",
                if bar.at_most { "<=" } else { ">=" },
                bar.limit
            )
        } else {
            format!(
                "  (bar {} {:.2}: NOT met)",
                if bar.at_most { "<=" } else { ">=" },
                bar.limit
            )
        };
        println!("{:<62} {:>6.3}{verdict}", bar.name, bar.value);
    }
}
