//! `scoreLeads`' narrative end to end: the official Python SDK (`tests/interop/sampling_client.py`)
//! supplies a sampling callback and calls the server over Streamable HTTP in both eras it speaks
//! — legacy (`sampling/createMessage` on the call's SSE stream, answered by a POST) and
//! 2026-07-28 (`input_required`, retried with `inputResponses`) — on the embedded demo org.

use serde_json::{Value, json};

use crate::support::{printed, run_interop, settings};

/// The lines starting with `{name} `, as JSON.
fn all_printed(stdout: &str, name: &str) -> Vec<Value> {
    let prefix = format!("{name} ");
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_sampling_callback_writes_the_score_leads_narrative_in_both_eras() {
    let running = server::start(settings(&[])).await.unwrap();
    let url = format!("http://{}/mcp", running.local_addr);
    for (mode, protocol) in [("legacy", "2025-11-25"), ("2026-07-28", "2026-07-28")] {
        let (stdout, _) =
            run_interop("sampling_client.py", &[mode.into(), url.clone()], None).await;
        assert!(
            stdout.starts_with(&format!("protocol {protocol}\n")),
            "{stdout}"
        );
        let plain = printed(&stdout, "plain");
        let narrated = printed(&stdout, "narrated");
        // Asked once, for the call that wanted a narrative, and its answer is the narrative.
        let prompts = all_printed(&stdout, "prompt");
        assert_eq!(prompts.len(), 1, "{mode}: {stdout}");
        assert_eq!(
            narrated["narrative"],
            printed(&stdout, "produced"),
            "{mode}"
        );
        assert_eq!(plain["narrative"], Value::Null);
        assert_eq!(plain.get("notes"), None);
        // The scores never depend on the narrative.
        let leads = narrated["leads"].as_array().unwrap();
        assert!(!leads.is_empty());
        assert_eq!(plain["leads"], narrated["leads"], "{mode}");
        // The model is given the facts of the top leads and nothing else.
        let prompt = &prompts[0];
        assert_eq!(prompt["maxTokens"], 300);
        let facts = prompt["facts"].as_array().unwrap();
        assert_eq!(facts.len(), leads.len().min(5));
        for (fact, lead) in facts.iter().zip(leads) {
            let mut keys: Vec<&str> = fact
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            assert_eq!(keys, ["factors", "grade", "name", "rank", "score"]);
            for key in ["rank", "name", "score", "grade"] {
                assert_eq!(fact[key], lead[key], "{mode} {key}");
            }
            let factors: Vec<Value> = lead["factors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| json!({"factor": f["factor"], "points": f["points"], "maxPoints": f["maxPoints"], "reason": f["reason"]}))
                .collect();
            assert_eq!(fact["factors"], json!(factors));
        }
    }
    // A client that refuses: the scores, no narrative, and a note; never a tool error.
    let (stdout, _) = run_interop(
        "sampling_client.py",
        &["legacy".into(), url.clone(), "decline".into()],
        None,
    )
    .await;
    let narrated = printed(&stdout, "narrated");
    assert_eq!(narrated["narrative"], Value::Null);
    assert_eq!(
        narrated["notes"],
        json!([
            "no narrative: the client declined the request (the scores are complete without it)"
        ])
    );
    assert_eq!(narrated["leads"], printed(&stdout, "plain")["leads"]);
    running.shutdown().await;
}
