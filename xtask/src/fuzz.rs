//! `cargo xtask fuzz`: runs every cargo-fuzz target of the workspace (each crate's `fuzz/`
//! directory, its own workspace on nightly) for a bounded time, starting from the committed seed
//! corpus (`fuzz/corpus/<target>`) and writing new inputs to the ignored `fuzz/grown/<target>`.
//! A crash leaves the input under `crates/<crate>/fuzz/artifacts/`; the other targets still run,
//! and the command fails at the end.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// A fuzz target: the crate directory holding `fuzz/`, and the target's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) crate_dir: PathBuf,
    pub(crate) name: String,
}

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let mut seconds = 60u64;
    let mut wanted = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().context("--seconds needs a value")?;
                seconds = value
                    .parse()
                    .with_context(|| format!("--seconds {value}"))?;
            }
            name => wanted.push(name.to_owned()),
        }
    }
    let targets = discover(root)?;
    let selected: Vec<&Target> = targets
        .iter()
        .filter(|t| wanted.is_empty() || wanted.contains(&t.name))
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        bail!(
            "no fuzz target matches {wanted:?}; known targets: {}",
            names.join(", ")
        );
    }
    let installed = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !installed {
        bail!(
            "cargo-fuzz on the nightly toolchain is needed: `rustup toolchain install nightly` \
             and `cargo install cargo-fuzz --locked`"
        );
    }
    let mut crashed = Vec::new();
    for target in selected {
        println!("\n==> fuzz {} ({}s)", target.name, seconds);
        // New inputs go to an ignored directory, so a run never grows the committed seeds; the
        // seeds are read from the second directory.
        let fuzz_dir = target.crate_dir.join("fuzz");
        let grown = fuzz_dir.join("grown").join(&target.name);
        let seeds = fuzz_dir.join("corpus").join(&target.name);
        std::fs::create_dir_all(&grown).with_context(|| format!("creating {}", grown.display()))?;
        let status = Command::new("cargo")
            .current_dir(&target.crate_dir)
            .args(["+nightly", "fuzz", "run", &target.name])
            .arg(&grown)
            .arg(&seeds)
            .args(["--", &format!("-max_total_time={seconds}")])
            .status()
            .context("could not start cargo fuzz")?;
        if !status.success() {
            // Go on with the other targets: one run should find every target's crashes.
            crashed.push(format!(
                "`{}` (input under {}/artifacts/{})",
                target.name,
                fuzz_dir.display(),
                target.name
            ));
        }
    }
    if !crashed.is_empty() {
        bail!(
            "fuzz targets failed: {}; add each input as a regression test",
            crashed.join(", ")
        );
    }
    Ok(())
}

/// Every `[[bin]]` of every `crates/*/fuzz/Cargo.toml`, sorted.
pub(crate) fn discover(root: &Path) -> anyhow::Result<Vec<Target>> {
    let mut targets = Vec::new();
    let crates = root.join("crates");
    for entry in
        std::fs::read_dir(&crates).with_context(|| format!("listing {}", crates.display()))?
    {
        let crate_dir = entry?.path();
        let manifest = crate_dir.join("fuzz/Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            targets.extend(bin_names(&text).into_iter().map(|name| Target {
                crate_dir: crate_dir.clone(),
                name,
            }));
        }
    }
    targets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(targets)
}

/// The `name`s of the `[[bin]]` tables of a manifest.
fn bin_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin
            && let Some(value) = line
                .strip_prefix("name")
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix('='))
        {
            names.push(value.trim().trim_matches('"').to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_workspace_fuzz_targets() {
        let root = crate::workspace_root().unwrap();
        let names: Vec<String> = discover(&root)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        for expected in [
            "parse_and_dispatch",
            "parse_soap",
            "sandbox_soql",
            "soql_escape",
            "soql_parse",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
    }

    #[test]
    fn reads_bin_names_only_from_bin_tables() {
        let manifest = "[package]\nname = \"x-fuzz\"\n\n[[bin]]\nname = \"a\"\npath = \"a.rs\"\n[dependencies]\nname = \"not-a-bin\"\n[[bin]]\nname=\"b\"\n";
        assert_eq!(bin_names(manifest), vec!["a", "b"]);
    }
}
