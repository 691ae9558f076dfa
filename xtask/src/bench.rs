//! `cargo xtask bench [--quick] [--only N[,N…]]`: builds the server, worker, sandbox, the `echo`
//! example and the benchmark runner in release, installs the Node anchors into a scratch copy
//! (`target/bench-anchors/`, never committed), prints where and when it runs, then hands over to
//! `sfmcp-bench run` (`bins/bench`), which measures every figure of `docs/benchmarks.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The anchors' sources: `shared/anchors/` beside the checkout (or above a worktree), or
/// `SFMCP_BENCH_ANCHORS`.
const ANCHORS_ENV: &str = "SFMCP_BENCH_ANCHORS";
const ANCHORS: [&str; 2] = ["mcp-sdk-echo", "node-webhook"];

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let mut passthrough = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--quick" => passthrough.push(arg.clone()),
            "--only" => {
                let figures = iter
                    .next()
                    .context("--only needs figure numbers, e.g. 1,4")?;
                passthrough.extend(["--only".to_owned(), figures.clone()]);
            }
            other => bail!("unknown bench option `{other}` (use --quick, --only N[,N…])"),
        }
    }

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    // One invocation: the example's dev-dependencies unify features with the bins', so building
    // them separately rebuilt much of the tree on every run.
    cargo(
        root,
        &[
            "build",
            "--release",
            "--locked",
            "-p",
            "bench",
            "-p",
            "server",
            "-p",
            "worker",
            "-p",
            "sandbox",
            "-p",
            "mcp-protocol",
            "--bins",
            "--example",
            "echo",
        ],
    )?;

    let scratch = root.join("target").join("bench-anchors");
    install_anchors(&find_anchors(root)?, &scratch)?;

    print_machine(args);
    let bins = target.join("release");
    let status = Command::new(bins.join("sfmcp-bench"))
        .current_dir(root)
        .arg("run")
        .arg("--bins")
        .arg(&bins)
        .arg("--anchors")
        .arg(&scratch)
        .arg("--logs")
        .arg(root.join("target").join("bench-logs"))
        .args(&passthrough)
        .status()
        .context("could not start sfmcp-bench")?;
    if !status.success() {
        bail!("sfmcp-bench exited with {status} (process logs in target/bench-logs/)");
    }
    Ok(())
}

fn find_anchors(root: &Path) -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os(ANCHORS_ENV) {
        return Ok(PathBuf::from(dir));
    }
    root.ancestors()
        .skip(1)
        .map(|dir| dir.join("shared").join("anchors"))
        .find(|dir| dir.join(ANCHORS[0]).is_dir())
        .with_context(|| {
            format!(
                "no shared/anchors/ above {}: set {ANCHORS_ENV}",
                root.display()
            )
        })
}

/// Copies each anchor's files into `scratch` and runs `npm install` where its `package.json`
/// is new or changed.
fn install_anchors(source: &Path, scratch: &Path) -> anyhow::Result<()> {
    for name in ANCHORS {
        let from = source.join(name);
        let to = scratch.join(name);
        std::fs::create_dir_all(&to)?;
        let manifest = to.join("package.json");
        let installed = std::fs::read(&manifest).ok();
        for entry in
            std::fs::read_dir(&from).with_context(|| format!("cannot read {}", from.display()))?
        {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let dest = to.join(entry.file_name());
                // The sources may be read-only; the copy must be replaceable next time.
                let _ = std::fs::remove_file(&dest);
                std::fs::write(&dest, std::fs::read(entry.path())?)?;
            }
        }
        let fresh = installed.as_deref() != std::fs::read(&manifest).ok().as_deref();
        if fresh || !to.join("node_modules").is_dir() {
            println!("$ npm install ({name})");
            let status = Command::new("npm")
                .current_dir(&to)
                .args(["install", "--no-audit", "--no-fund"])
                .status()
                .context("could not start npm (Node.js 20 or later is needed for the anchors)")?;
            if !status.success() {
                bail!("npm install failed for the {name} anchor");
            }
        }
    }
    Ok(())
}

/// The run's context for docs/benchmarks.md: command, date, machine and its load.
fn print_machine(args: &[String]) {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or_else(
            || "?".into(),
            |kb| format!("{:.0} GB", kb as f64 / 1024.0 / 1024.0),
        );
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "not found".into());
    println!("\ncargo xtask bench {}", args.join(" "));
    println!("date: {date}");
    println!("machine: {model}, {cores} cores, {memory}; node {node}");
    println!(
        "load average before the run: {}",
        read("/proc/loadavg").trim()
    );
    println!();
}

fn cargo(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    println!("$ cargo {}", args.join(" "));
    let status = Command::new("cargo")
        .current_dir(root)
        .args(args)
        .status()
        .context("could not start cargo")?;
    if !status.success() {
        bail!("`cargo {}` exited with {status}", args.join(" "));
    }
    Ok(())
}
