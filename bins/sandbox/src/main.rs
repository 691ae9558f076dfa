//! `sfmcp-sandbox`: runs the local Salesforce org from `salesforce-sandbox` on a socket. It only
//! composes; the emulator lives in the library crate.

#![allow(clippy::print_stdout)]

fn main() -> anyhow::Result<()> {
    println!("sfmcp-sandbox: not built yet (see issue \"salesforce-sandbox\").");
    Ok(())
}
