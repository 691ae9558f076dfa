//! `updateContact` and `createTask`: what reaches the store, and refusals that name the problem.

use serde_json::json;

use crate::support::Bench;

#[tokio::test]
async fn update_contact_changes_only_updateable_fields() {
    let bench = Bench::start().await;
    let contact = bench.rows("Contact")[0].id();
    let result = bench
        .call(
            "updateContact",
            json!({"id": contact, "fields": {"Title": "VP of Sales", "phone": "+1 415 555 0100", "Department": null}}),
        )
        .await;
    assert_eq!(result["id"], json!(contact));
    assert_eq!(result["record"]["Title"], "VP of Sales");
    assert_eq!(result["record"]["Phone"], "+1 415 555 0100");
    assert_eq!(
        result["updatedFields"],
        json!(["Department", "Phone", "Title"])
    );
    let stored = bench.row("Contact", &contact);
    assert_eq!(stored.text("Title").as_deref(), Some("VP of Sales"));
    assert_eq!(stored.text("Phone").as_deref(), Some("+1 415 555 0100"));
    assert_eq!(stored.text("Department"), None);

    let before = bench.row("Contact", &contact);
    let message = bench
        .call_err(
            "updateContact",
            json!({"id": contact, "fields": {"Title": "CEO", "Name": "X", "CreatedDate": "2020-01-01", "Favourite_Color__c": "red"}}),
        )
        .await;
    assert!(message.contains("`Favourite_Color__c`"), "{message}");
    assert!(
        message.contains("Name, CreatedDate cannot be updated")
            || message.contains("CreatedDate, Name cannot be updated"),
        "{message}"
    );
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(
        bench.row("Contact", &contact).text("Title"),
        before.text("Title"),
        "no partial update"
    );
    // Salesforce's own validation comes back as an actionable message.
    let message = bench
        .call_err(
            "updateContact",
            json!({"id": contact, "fields": {"LastName": null}}),
        )
        .await;
    assert!(message.contains("Fix the arguments"), "{message}");
    let lead = bench.rows("Lead")[0].id();
    let message = bench
        .call_err(
            "updateContact",
            json!({"id": lead, "fields": {"Title": "x"}}),
        )
        .await;
    assert!(message.contains("takes a Contact (003) id"), "{message}");
}

#[tokio::test]
async fn create_task_places_related_ids_by_prefix() {
    let bench = Bench::start().await;
    let lead = bench.rows("Lead")[0].id();
    let contact = bench.rows("Contact")[0].id();
    let opportunity = bench.rows("Opportunity")[0].id();
    let case = bench.rows("Case")[0].id();
    let account = bench.rows("Account")[0].id();
    let user = bench.rows("User")[0].id();

    for (related, slot) in [
        (&lead, "WhoId"),
        (&contact, "WhoId"),
        (&opportunity, "WhatId"),
        (&case, "WhatId"),
        (&account, "WhatId"),
    ] {
        let task = bench
            .call(
                "createTask",
                json!({"subject": "Follow up on pricing", "relatedTo": related, "dueDate": "2026-12-01",
                       "priority": "High", "description": "Call back before Friday."}),
            )
            .await;
        let stored = bench.row("Task", task["id"].as_str().unwrap());
        assert_eq!(
            stored.text(slot).as_deref(),
            Some(related.as_str()),
            "{slot}"
        );
        let other = if slot == "WhoId" { "WhatId" } else { "WhoId" };
        assert_eq!(stored.text(other), None);
        assert_eq!(
            stored.text("Subject").as_deref(),
            Some("Follow up on pricing")
        );
        assert_eq!(stored.text("Priority").as_deref(), Some("High"));
        assert_eq!(task["dueDate"], "2026-12-01");
        assert_eq!(task["status"], "Not Started");
    }

    let task = bench
        .call(
            "createTask",
            json!({"subject": "Kickoff", "whoId": contact, "whatId": opportunity, "ownerId": user, "status": "In Progress"}),
        )
        .await;
    let stored = bench.row("Task", task["id"].as_str().unwrap());
    assert_eq!(stored.text("WhoId"), Some(contact.clone()));
    assert_eq!(stored.text("WhatId"), Some(opportunity.clone()));
    assert_eq!(stored.text("OwnerId"), Some(user.clone()));
    assert_eq!(
        task["whoName"],
        json!(bench.row("Contact", &contact).text("Name"))
    );
    assert_eq!(
        task["whatName"],
        json!(bench.row("Opportunity", &opportunity).text("Name"))
    );

    let tasks_before = bench.rows("Task").len();
    let message = bench
        .call_err("createTask", json!({"subject": "x", "whoId": account}))
        .await;
    assert!(message.contains("pass it as `whatId`"), "{message}");
    let message = bench
        .call_err("createTask", json!({"subject": "x", "whatId": lead}))
        .await;
    assert!(message.contains("pass it as `whoId`"), "{message}");
    let message = bench
        .call_err(
            "createTask",
            json!({"subject": "x", "whoId": lead, "whatId": opportunity}),
        )
        .await;
    assert!(message.contains("cannot also be related"), "{message}");
    let message = bench
        .call_err("createTask", json!({"subject": "x", "relatedTo": user}))
        .await;
    assert!(message.contains("User id"), "{message}");
    let message = bench
        .call_err("createTask", json!({"subject": "x", "ownerId": contact}))
        .await;
    assert!(message.contains("takes a User (005) id"), "{message}");
    assert_eq!(bench.rows("Task").len(), tasks_before, "nothing created");
}
