//! Project automation, run as `cargo xtask <task>`. `ci` is the one gate CI runs; every other
//! task is a part of it or a developer convenience. Plain Rust instead of shell scripts so it runs
//! the same everywhere cargo does.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod ci;
mod fuzz;
mod tidy;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  bench   the performance figures of docs/benchmarks.md, side by side with their anchors:
          `cargo xtask bench [--quick] [--only N[,N...]]` (release builds, loopback only;
          --quick is a few seconds per figure, a smoke test; needs node, npm, redis-server)
  ci      the full gate: fmt, clippy, tests (nextest + doctests), rustdoc, cargo-deny, tidy
  fuzz    run every cargo-fuzz target for a while: `cargo xtask fuzz [--seconds N] [TARGET...]`
          (default 60 s each; needs nightly and cargo-fuzz)
  tidy    the source-tree rules alone (//! docs, no mod.rs, no ignored tests, no dbg!/todo!,
          every crate in docs/architecture.md)
";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root()?;
    match args.first().map(String::as_str) {
        Some("bench") => bench::run(&root, &args[1..]),
        Some("ci") => ci::run(&root),
        Some("fuzz") => fuzz::run(&root, &args[1..]),
        Some("tidy") => {
            let problems = tidy::check_tree(&root)?;
            tidy::report(&problems)
        }
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .context("xtask has no parent directory")?;
    Ok(root.to_path_buf())
}
