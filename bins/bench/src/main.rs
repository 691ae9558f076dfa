//! `sfmcp-bench`: runs the figures of `docs/benchmarks.md` (normally through `cargo xtask bench`,
//! which builds everything in release first), or one side of a figure that must be its own
//! process (`bulk-client`, whose peak RSS is the figure).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    bench::run(bench::Cli::parse()).await
}
