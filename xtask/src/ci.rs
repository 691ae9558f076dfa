//! `cargo xtask ci`: the one gate. Each step runs in order and the first failure stops the run
//! with the step's name, so a red CI says what to fix.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::tidy;

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();

    step("tidy", || tidy::report(&tidy::check_tree(root)?))?;
    step("fmt", || cargo(root, &["fmt", "--all", "--check"], &[]))?;
    step("clippy", || {
        cargo(
            root,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        )
    })?;
    step("tests", || {
        if has_cargo_subcommand(root, "nextest") {
            // Doctests first, so that the run closes on nextest's summary of every other test.
            cargo(root, &["test", "--workspace", "--doc", "--locked"], &[])?;
            let nextest = [
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--profile",
                "ci",
            ];
            cargo(root, &nextest, &[])
        } else {
            println!("cargo-nextest is not installed: running `cargo test` instead");
            cargo(root, &["test", "--workspace", "--locked"], &[])
        }
    })?;
    step("rustdoc", || {
        cargo(
            root,
            &["doc", "--workspace", "--no-deps", "--locked"],
            &[("RUSTDOCFLAGS", "-D warnings")],
        )
    })?;
    step("cargo-deny", || deny(root))?;

    println!("\nxtask ci: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

fn step(name: &str, body: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
    println!("\n==> {name}");
    let started = Instant::now();
    body().with_context(|| format!("xtask ci: step `{name}` failed"))?;
    println!("<== {name} ok ({:.1?})", started.elapsed());
    Ok(())
}

fn deny(root: &Path) -> anyhow::Result<()> {
    if !has_cargo_subcommand(root, "deny") {
        bail!(
            "cargo-deny is not installed: run `cargo install cargo-deny --locked` (.ci/run does)"
        );
    }
    cargo(
        root,
        &["deny", "--locked", "check", "licenses", "bans", "sources"],
        &[],
    )?;

    // The advisory database lives on GitHub; machines without internet cannot fetch it. Say so
    // plainly instead of passing silently or failing for a reason that is not the code's.
    let fetched = Command::new("cargo")
        .current_dir(root)
        .args(["deny", "fetch", "db"])
        .status()
        .map(|status| status.success())
        .unwrap_or(false);
    if fetched {
        cargo(root, &["deny", "--locked", "check", "advisories"], &[])
    } else {
        println!(
            "advisories: NOT CHECKED: the RustSec advisory database could not be fetched \
             (no network to github.com). Licences, bans and sources were checked."
        );
        Ok(())
    }
}

fn cargo(root: &Path, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<()> {
    println!("$ cargo {}", args.join(" "));
    let status = Command::new("cargo")
        .current_dir(root)
        .args(args)
        .envs(envs.iter().copied())
        .status()
        .context("could not start cargo")?;
    if !status.success() {
        bail!("`cargo {}` exited with {status}", args.join(" "));
    }
    Ok(())
}

fn has_cargo_subcommand(root: &Path, name: &str) -> bool {
    Command::new("cargo")
        .current_dir(root)
        .args([name, "--version"])
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false)
}
