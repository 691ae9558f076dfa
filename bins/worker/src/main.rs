//! `sfmcp-worker`: receives Salesforce outbound messages, stores them durably before acknowledging,
//! and turns them into follow-ups. It only composes library crates; no business logic lives here.

#![allow(clippy::print_stdout)]

fn main() -> anyhow::Result<()> {
    println!("sfmcp-worker: not built yet (see issue \"webhooks + worker\").");
    Ok(())
}
