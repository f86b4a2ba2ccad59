#![forbid(unsafe_code)]
//! Criterion benchmarks of every qrnm part live in `benches/`; this library
//! reads their stored results so that `bench-ratios` can print the ratios that
//! `docs/benchmarks.md` records.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

/// Median time in nanoseconds of every benchmark found under a criterion
/// output folder, keyed by criterion's full id (`group/function/parameter`).
///
/// # Errors
/// Returns the I/O error of a folder that cannot be listed. Benchmarks whose
/// files are missing or unreadable are skipped.
pub fn read_medians(criterion_dir: &Path) -> io::Result<BTreeMap<String, f64>> {
    let mut medians = BTreeMap::new();
    visit(criterion_dir, &mut medians)?;
    Ok(medians)
}

fn visit(dir: &Path, medians: &mut BTreeMap<String, f64>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|name| name == "new") {
            if let Some((id, median)) = read_one(&path) {
                medians.insert(id, median);
            }
            continue;
        }
        visit(&path, medians)?;
    }
    Ok(())
}

/// Reads `benchmark.json` (for the id) and `estimates.json` (for the median)
/// of one `new/` folder.
fn read_one(new_dir: &Path) -> Option<(String, f64)> {
    let benchmark: serde_json::Value =
        serde_json::from_slice(&fs::read(new_dir.join("benchmark.json")).ok()?).ok()?;
    let estimates: serde_json::Value =
        serde_json::from_slice(&fs::read(new_dir.join("estimates.json")).ok()?).ok()?;
    let id = benchmark.get("full_id")?.as_str()?.to_owned();
    let median = estimates.get("median")?.get("point_estimate")?.as_f64()?;
    Some((id, median))
}
