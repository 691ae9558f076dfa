//! Figure 5: `sfmcp-server`'s resident memory (`VmRSS`, and the peak `VmHWM`, from
//! `/proc/<pid>/status`), idle after start-up against an external sandbox, and again holding
//! 1,000 open legacy sessions (`initialize` + `notifications/initialized`, never closed).

use std::time::Duration;

use crate::figures::open_legacy_session;
use crate::fixtures::{self, Sandbox};
use crate::load::Conn;
use crate::{RunArgs, verdict};

const SESSIONS: usize = 1_000;
const CONNECTIONS: usize = 16;
const GOAL_IDLE_MB: f64 = 30.0;
const GOAL_SESSIONS_MB: f64 = 150.0;

/// Runs figure 5.
///
/// # Errors
/// When the server does not start or refuses sessions.
pub async fn run(args: &RunArgs) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(args, "tiny").await?;
    let (server, addr) = fixtures::server(args, &sandbox, "server-memory").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = server.memory()?;
    let mut tasks = Vec::new();
    for i in 0..CONNECTIONS {
        let count = SESSIONS / CONNECTIONS + usize::from(i < SESSIONS % CONNECTIONS);
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            for _ in 0..count {
                open_legacy_session(addr, &mut conn).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = server.memory()?;
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "5. server memory idle: {:.1} MB RSS (peak {:.1} MB) — goal ≤ {GOAL_IDLE_MB} MB {}",
        mb(idle.rss_kb),
        mb(idle.hwm_kb),
        verdict(mb(idle.rss_kb) <= GOAL_IDLE_MB),
    );
    println!(
        "5. server memory with {SESSIONS} open legacy sessions: {:.1} MB RSS (peak {:.1} MB) — goal ≤ {GOAL_SESSIONS_MB} MB {}",
        mb(loaded.rss_kb),
        mb(loaded.hwm_kb),
        verdict(mb(loaded.hwm_kb) <= GOAL_SESSIONS_MB),
    );
    Ok(())
}
