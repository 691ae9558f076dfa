//! The SOQL engine against a small hand-built org (inserted through the store's validating
//! transactions) and against the generated datasets, with expectations written from
//! Salesforce's documented SOQL semantics.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use expect_test::expect;
use salesforce_core::id::RecordId;
use salesforce_sandbox::dataset::{self, DatasetSize};
use salesforce_sandbox::soql_engine::{
    self, Cell, QueryLocators, QueryRequest, QueryResponse, batch_size_from_options,
};
use salesforce_sandbox::store::{Store, Txn};
use salesforce_sandbox::value::Value;
use serde_json::{Map, Value as Json, json};

/// Wednesday 2024-05-29, 15:00 UTC.
fn now() -> DateTime<Utc> {
    at("2024-05-29T15:00:00Z")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn body(v: Json) -> Map<String, Json> {
    v.as_object().cloned().unwrap()
}

struct Org {
    store: Store,
    locators: QueryLocators,
    ids: HashMap<&'static str, RecordId>,
}

impl Org {
    fn run_with(
        &self,
        soql: &str,
        include_deleted: bool,
        batch_size: usize,
        now: DateTime<Utc>,
    ) -> Result<QueryResponse, salesforce_sandbox::ApiFailure> {
        let data = self.store.read();
        soql_engine::run_query(
            &data,
            &self.locators,
            &QueryRequest {
                version: "62.0",
                soql,
                include_deleted,
                batch_size,
                now,
            },
        )
    }

    fn query(&self, soql: &str) -> QueryResponse {
        self.run_with(soql, false, 2000, now())
            .unwrap_or_else(|e| panic!("{soql}: {e:?}"))
    }

    /// The first selected value of every record, as text.
    fn firsts(&self, soql: &str) -> Vec<String> {
        self.query(soql)
            .records
            .iter()
            .map(|r| match r.cells().next() {
                Some((_, Cell::Value(Value::Text(t)))) => t.to_string(),
                other => panic!("{soql}: first cell {other:?}"),
            })
            .collect()
    }

    fn error(&self, soql: &str) -> (String, String) {
        let err = self.run_with(soql, false, 2000, now()).expect_err(soql);
        assert_eq!(err.status, 400, "{soql}");
        (err.code().to_owned(), err.errors[0].message.clone())
    }

    fn id(&self, name: &str) -> RecordId {
        self.ids[name]
    }
}

/// The hand-built org described in the tests' expectations.
fn org() -> Org {
    let store = Store::new(now());
    let mut ids = HashMap::new();
    {
        let mut data = store.write();
        let extension = serde_json::from_value(json!({"fields": {"Lead": [
            {"name": "Interests__c", "type": "multipicklist", "picklistValues": ["Cloud", "AI", "Security"]}
        ]}}))
        .unwrap();
        data.extend_schema(&extension).unwrap();
        let user = data.users().admin;
        let mut insert_at = |when: &str, name: &'static str, object: &str, fields: Json| {
            let mut txn = Txn::new(&mut data, user, at(when));
            let id = txn
                .insert(object, &body(fields))
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            ids.insert(name, id);
            id
        };
        let t = "2024-05-29T15:00:00Z";
        let acme = insert_at(
            t,
            "acme",
            "Account",
            json!({"Name": "Acme", "Industry": "Energy", "AnnualRevenue": 1000000, "NumberOfEmployees": 50, "Rating": "Hot"}),
        );
        let globex = insert_at(
            t,
            "globex",
            "Account",
            json!({"Name": "Globex", "Industry": "Technology", "AnnualRevenue": 500000, "NumberOfEmployees": 200}),
        );
        insert_at(
            t,
            "initech",
            "Account",
            json!({"Name": "Initech", "NumberOfEmployees": 10}),
        );
        let umbrella = insert_at(
            t,
            "umbrella",
            "Account",
            json!({"Name": "Umbrella Corp", "Industry": "Energy", "AnnualRevenue": 250000}),
        );
        insert_at(
            t,
            "gone",
            "Account",
            json!({"Name": "Gone Inc", "Industry": "Energy"}),
        );
        let smith = insert_at(
            t,
            "smith",
            "Contact",
            json!({"LastName": "Smith", "FirstName": "Ann", "AccountId": acme.as_str(), "Birthdate": "1980-01-15"}),
        );
        insert_at(
            t,
            "jones",
            "Contact",
            json!({"LastName": "Jones", "FirstName": "Bob", "AccountId": acme.as_str()}),
        );
        insert_at(
            t,
            "brown",
            "Contact",
            json!({"LastName": "Brown", "AccountId": globex.as_str()}),
        );
        insert_at(t, "orphan", "Contact", json!({"LastName": "Orphan"}));
        let big = insert_at(
            t,
            "big",
            "Opportunity",
            json!({"Name": "Acme Big", "AccountId": acme.as_str(), "StageName": "Closed Won", "Amount": 1000, "CloseDate": "2024-05-29"}),
        );
        insert_at(
            t,
            "small",
            "Opportunity",
            json!({"Name": "Acme Small", "AccountId": acme.as_str(), "StageName": "Prospecting", "Amount": 250.5, "CloseDate": "2024-05-20"}),
        );
        insert_at(
            t,
            "deal",
            "Opportunity",
            json!({"Name": "Globex Deal", "AccountId": globex.as_str(), "StageName": "Closed Lost", "CloseDate": "2024-06-15"}),
        );
        insert_at(
            t,
            "renewal",
            "Opportunity",
            json!({"Name": "Umbrella Renewal", "AccountId": umbrella.as_str(), "StageName": "Negotiation/Review", "Amount": 5000, "CloseDate": "2024-04-10"}),
        );
        let hill = insert_at(
            t,
            "hill",
            "Lead",
            json!({"LastName": "Hill", "Company": "Acme", "Rating": "Hot", "Industry": "Energy", "Interests__c": "Cloud;AI"}),
        );
        insert_at(
            "2024-05-28T23:30:00Z",
            "young",
            "Lead",
            json!({"LastName": "Young", "Company": "Beta LLC", "Rating": "Warm", "Industry": "Technology", "Interests__c": "Security"}),
        );
        insert_at(
            "2024-05-01T00:00:00Z",
            "zed",
            "Lead",
            json!({"LastName": "Zed", "Company": "gamma 50% off"}),
        );
        insert_at(
            "2024-03-15T12:00:00Z",
            "able",
            "Lead",
            json!({"LastName": "Able", "Company": "Delta_Co", "Rating": "Cold", "Industry": "Energy"}),
        );
        insert_at(
            t,
            "ghost",
            "Lead",
            json!({"LastName": "Ghost", "Company": "Gone", "Rating": "Hot"}),
        );
        insert_at(
            t,
            "call",
            "Task",
            json!({"Subject": "Call Ann", "WhoId": smith.as_str(), "WhatId": acme.as_str(), "ActivityDate": "2024-05-30"}),
        );
        insert_at(
            t,
            "follow",
            "Task",
            json!({"Subject": "Follow up", "WhatId": big.as_str(), "Status": "Completed"}),
        );
        insert_at(
            t,
            "intro",
            "Task",
            json!({"Subject": "Lead intro", "WhoId": hill.as_str()}),
        );
        insert_at(
            t,
            "kickoff",
            "Event",
            json!({"Subject": "Kickoff", "StartDateTime": "2024-05-29T00:00:00Z", "DurationInMinutes": 60}),
        );
        insert_at(
            t,
            "late",
            "Event",
            json!({"Subject": "Late call", "StartDateTime": "2024-05-28T23:59:59Z", "DurationInMinutes": 30}),
        );
        insert_at(
            t,
            "tomorrow",
            "Event",
            json!({"Subject": "Tomorrow", "StartDateTime": "2024-05-30T00:00:00Z", "DurationInMinutes": 30}),
        );
        let mut txn = Txn::new(&mut data, user, now());
        txn.delete("Account", ids["gone"].as_str()).unwrap();
        txn.delete("Lead", ids["ghost"].as_str()).unwrap();
    }
    Org {
        store,
        locators: QueryLocators::default(),
        ids,
    }
}

#[test]
fn where_clauses_select_the_documented_records() {
    let org = org();
    let acme15 = org.id("acme").to_15().to_owned();
    let table: Vec<(String, &[&str])> = vec![
        // Text equality ignores case; deleted records stay out of `query`.
        ("SELECT Name FROM Account WHERE Industry = 'energy'".into(), &["Acme", "Umbrella Corp"]),
        // `!=` and `NOT IN` include nulls.
        ("SELECT Name FROM Account WHERE Industry != 'Energy'".into(), &["Globex", "Initech"]),
        ("SELECT Name FROM Account WHERE Industry NOT IN ('Energy')".into(), &["Globex", "Initech"]),
        ("SELECT Name FROM Account WHERE Industry = null".into(), &["Initech"]),
        ("SELECT Name FROM Account WHERE Industry != null".into(), &["Acme", "Globex", "Umbrella Corp"]),
        ("SELECT Name FROM Account WHERE AnnualRevenue > 250000".into(), &["Acme", "Globex"]),
        ("SELECT Name FROM Account WHERE AnnualRevenue >= 250000".into(), &["Acme", "Globex", "Umbrella Corp"]),
        ("SELECT Name FROM Account WHERE AnnualRevenue < 500000".into(), &["Umbrella Corp"]),
        ("SELECT Name FROM Account WHERE AnnualRevenue <= 500000".into(), &["Globex", "Umbrella Corp"]),
        ("SELECT Name FROM Account WHERE AnnualRevenue <> 500000".into(), &["Acme", "Initech", "Umbrella Corp"]),
        ("SELECT Name FROM Account WHERE NumberOfEmployees = 50".into(), &["Acme"]),
        ("SELECT Name FROM Account WHERE Name LIKE 'a%'".into(), &["Acme"]),
        ("SELECT Name FROM Account WHERE Name LIKE '%CORP'".into(), &["Umbrella Corp"]),
        ("SELECT Name FROM Account WHERE Name LIKE '_lobex'".into(), &["Globex"]),
        ("SELECT Name FROM Account WHERE Name IN ('acme', 'Globex', 'nobody')".into(), &["Acme", "Globex"]),
        ("SELECT Name FROM Account WHERE NOT Industry = 'Energy'".into(), &["Globex", "Initech"]),
        ("SELECT Name FROM Account WHERE (Industry = 'Energy' AND AnnualRevenue > 300000) OR Name = 'Initech'".into(), &["Acme", "Initech"]),
        ("SELECT Name FROM Account WHERE Name > 'globex'".into(), &["Initech", "Umbrella Corp"]),
        ("SELECT Name FROM Account WHERE Rating = 'Hot' AND Industry IN ('Energy', 'Technology')".into(), &["Acme"]),
        // Parent paths, ids of either length, dates and booleans.
        ("SELECT LastName FROM Contact WHERE Account.Name = 'Acme'".into(), &["Smith", "Jones"]),
        ("SELECT LastName FROM Contact WHERE Account.Industry = null".into(), &["Orphan"]),
        (format!("SELECT LastName FROM Contact WHERE AccountId = '{acme15}'"), &["Smith", "Jones"]),
        ("SELECT LastName FROM Contact WHERE Birthdate = 1980-01-15".into(), &["Smith"]),
        ("SELECT LastName FROM Contact WHERE Birthdate < 1990-01-01".into(), &["Smith"]),
        ("SELECT LastName FROM Contact WHERE HasOptedOutOfEmail = false AND Account.Owner.Name = 'Dana Demo'".into(), &["Smith", "Jones", "Brown"]),
        // Relative dates on a date field (today is Wednesday 2024-05-29).
        ("SELECT Name FROM Opportunity WHERE CloseDate = TODAY".into(), &["Acme Big"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate = LAST_WEEK".into(), &["Acme Small"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_MONTH".into(), &["Globex Deal"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate = LAST_MONTH".into(), &["Umbrella Renewal"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate < THIS_MONTH".into(), &["Umbrella Renewal"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate > THIS_WEEK".into(), &["Globex Deal"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate = LAST_N_DAYS:10".into(), &["Acme Big", "Acme Small"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:30".into(), &["Globex Deal"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate != THIS_QUARTER".into(), &[]),
        ("SELECT Name FROM Opportunity WHERE IsWon = true".into(), &["Acme Big"]),
        ("SELECT Name FROM Opportunity WHERE Amount = 250.5".into(), &["Acme Small"]),
        ("SELECT Name FROM Opportunity WHERE Amount = null".into(), &["Globex Deal"]),
        ("SELECT Name FROM Opportunity WHERE StageName IN ('closed won', 'Closed Lost')".into(), &["Acme Big", "Globex Deal"]),
        // Relative dates, dates and datetimes on a datetime field (whole UTC days).
        ("SELECT LastName FROM Lead WHERE CreatedDate = TODAY".into(), &["Hill"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate = YESTERDAY".into(), &["Young"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate = LAST_N_DAYS:1".into(), &["Hill", "Young"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate = THIS_MONTH".into(), &["Hill", "Young", "Zed"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate = LAST_QUARTER".into(), &["Able"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate < THIS_MONTH".into(), &["Able"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate < 2024-05-01T00:00:00Z".into(), &["Able"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate >= 2024-05-01T00:00:00Z".into(), &["Hill", "Young", "Zed"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate > 2024-05-28T23:30:00Z".into(), &["Hill"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate = 2024-05-29T17:00:00+02:00".into(), &["Hill"]),
        ("SELECT LastName FROM Lead WHERE CreatedDate = 2024-05-28".into(), &["Young"]),
        ("SELECT Subject FROM Event WHERE StartDateTime = TODAY".into(), &["Kickoff"]),
        ("SELECT Subject FROM Event WHERE StartDateTime = YESTERDAY".into(), &["Late call"]),
        ("SELECT Subject FROM Event WHERE StartDateTime = 2024-05-30".into(), &["Tomorrow"]),
        ("SELECT Subject FROM Event WHERE StartDateTime > TODAY".into(), &["Tomorrow"]),
        // LIKE escapes.
        (r"SELECT LastName FROM Lead WHERE Company LIKE '%50\% off'".into(), &["Zed"]),
        (r"SELECT LastName FROM Lead WHERE Company LIKE 'delta\_%'".into(), &["Able"]),
        ("SELECT LastName FROM Lead WHERE Company LIKE 'delta_co'".into(), &["Able"]),
        ("SELECT LastName FROM Lead WHERE Rating = 'Hot'".into(), &["Hill"]),
        // Multi-select picklists.
        ("SELECT LastName FROM Lead WHERE Interests__c INCLUDES ('AI')".into(), &["Hill"]),
        ("SELECT LastName FROM Lead WHERE Interests__c INCLUDES ('ai;cloud')".into(), &["Hill"]),
        ("SELECT LastName FROM Lead WHERE Interests__c INCLUDES ('AI;Security')".into(), &[]),
        ("SELECT LastName FROM Lead WHERE Interests__c INCLUDES ('AI', 'Security')".into(), &["Hill", "Young"]),
        ("SELECT LastName FROM Lead WHERE Interests__c EXCLUDES ('AI')".into(), &["Young", "Zed", "Able"]),
        ("SELECT LastName FROM Lead WHERE Interests__c = 'cloud;ai'".into(), &["Hill"]),
        // Polymorphic relationships.
        ("SELECT Subject FROM Task WHERE What.Name = 'Acme'".into(), &["Call Ann"]),
        ("SELECT Subject FROM Task WHERE What.Type = 'Opportunity'".into(), &["Follow up"]),
        ("SELECT Subject FROM Task WHERE Who.Name LIKE 'Ann%'".into(), &["Call Ann"]),
        ("SELECT Subject FROM Task WHERE Who.Type = 'Lead'".into(), &["Lead intro"]),
        ("SELECT Subject FROM Task WHERE ActivityDate = TOMORROW".into(), &["Call Ann"]),
        // The object name and an alias may prefix a path.
        ("SELECT a.Name FROM Account a WHERE a.Name = 'Acme'".into(), &["Acme"]),
        ("SELECT Contact.LastName FROM Contact WHERE Contact.Account.Name = 'Globex'".into(), &["Brown"]),
    ];
    for (soql, expected) in &table {
        assert_eq!(org.firsts(soql), *expected, "{soql}");
    }
}

#[test]
fn order_by_limit_and_offset() {
    let org = org();
    let table: &[(&str, &[&str])] = &[
        (
            "SELECT Name FROM Account ORDER BY AnnualRevenue",
            &["Initech", "Umbrella Corp", "Globex", "Acme"],
        ),
        (
            "SELECT Name FROM Account ORDER BY AnnualRevenue DESC",
            &["Acme", "Globex", "Umbrella Corp", "Initech"],
        ),
        (
            "SELECT Name FROM Account ORDER BY AnnualRevenue ASC NULLS LAST",
            &["Umbrella Corp", "Globex", "Acme", "Initech"],
        ),
        (
            "SELECT Name FROM Account ORDER BY AnnualRevenue DESC NULLS FIRST",
            &["Initech", "Acme", "Globex", "Umbrella Corp"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Industry DESC NULLS FIRST, Name",
            &["Initech", "Globex", "Acme", "Umbrella Corp"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Name DESC",
            &["Umbrella Corp", "Initech", "Globex", "Acme"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Name LIMIT 2",
            &["Acme", "Globex"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1",
            &["Globex", "Initech"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Name OFFSET 3",
            &["Umbrella Corp"],
        ),
        ("SELECT Name FROM Account ORDER BY Name OFFSET 10", &[]),
        ("SELECT Name FROM Account LIMIT 1", &["Acme"]),
        ("SELECT Name FROM Account LIMIT 0", &[]),
        (
            "SELECT LastName FROM Contact ORDER BY Account.Name NULLS LAST, LastName",
            &["Jones", "Smith", "Brown", "Orphan"],
        ),
        (
            "SELECT Name FROM Opportunity ORDER BY CloseDate DESC",
            &["Globex Deal", "Acme Big", "Acme Small", "Umbrella Renewal"],
        ),
        (
            "SELECT Name FROM Opportunity ORDER BY IsWon DESC, Amount DESC",
            &["Acme Big", "Umbrella Renewal", "Acme Small", "Globex Deal"],
        ),
    ];
    for (soql, expected) in table {
        assert_eq!(org.firsts(soql), *expected, "{soql}");
    }
    let limited = org.query("SELECT Name FROM Account ORDER BY Name LIMIT 2");
    assert_eq!((limited.total_size, limited.done), (2, true));
}

#[test]
fn count_and_query_all() {
    let org = org();
    let count = org.query("SELECT COUNT() FROM Account");
    assert_eq!(
        (count.total_size, count.records.len(), count.done),
        (4, 0, true)
    );
    assert_eq!(
        org.query("SELECT COUNT() FROM Account WHERE Industry = 'Energy'")
            .total_size,
        2
    );
    assert_eq!(
        org.query("SELECT COUNT() FROM Account LIMIT 3").total_size,
        3
    );
    let all = org
        .run_with("SELECT COUNT() FROM Account", true, 2000, now())
        .unwrap();
    assert_eq!(all.total_size, 5);
    let deleted = org
        .run_with(
            "SELECT Name, IsDeleted FROM Account WHERE Industry = 'Energy' ORDER BY Name",
            true,
            2000,
            now(),
        )
        .unwrap();
    let rows: Vec<(String, bool)> = deleted
        .records
        .iter()
        .map(|r| {
            (
                r.value("Name").and_then(Value::as_text).unwrap().to_owned(),
                r.value("IsDeleted").and_then(Value::as_bool).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("Acme".to_owned(), false),
            ("Gone Inc".to_owned(), true),
            ("Umbrella Corp".to_owned(), false)
        ]
    );
}

fn json(response: &QueryResponse) -> String {
    serde_json::to_string_pretty(response).unwrap()
}

#[test]
fn records_serialise_as_salesforce_does() {
    let org = org();
    let response = org.query(
        "SELECT id, name, Industry, AnnualRevenue, NumberOfEmployees, CreatedDate, owner.name, \
         (SELECT LastName, Birthdate FROM contacts ORDER BY LastName), (SELECT Name FROM Opportunities WHERE Amount > 100000) \
         FROM Account WHERE Name IN ('Acme', 'Initech') ORDER BY Name",
    );
    expect![[r#"
        {
          "totalSize": 2,
          "done": true,
          "records": [
            {
              "attributes": {
                "type": "Account",
                "url": "/services/data/v62.0/sobjects/Account/0013h000000001dAAA"
              },
              "Id": "0013h000000001dAAA",
              "Name": "Acme",
              "Industry": "Energy",
              "AnnualRevenue": 1000000.0,
              "NumberOfEmployees": 50,
              "CreatedDate": "2024-05-29T15:00:00.000+0000",
              "Owner": {
                "attributes": {
                  "type": "User",
                  "url": "/services/data/v62.0/sobjects/User/0053h0000000001AAA"
                },
                "Name": "Dana Demo"
              },
              "Contacts": {
                "totalSize": 2,
                "done": true,
                "records": [
                  {
                    "attributes": {
                      "type": "Contact",
                      "url": "/services/data/v62.0/sobjects/Contact/0033h000000001jAAA"
                    },
                    "LastName": "Jones",
                    "Birthdate": null
                  },
                  {
                    "attributes": {
                      "type": "Contact",
                      "url": "/services/data/v62.0/sobjects/Contact/0033h000000001iAAA"
                    },
                    "LastName": "Smith",
                    "Birthdate": "1980-01-15"
                  }
                ]
              },
              "Opportunities": null
            },
            {
              "attributes": {
                "type": "Account",
                "url": "/services/data/v62.0/sobjects/Account/0013h000000001fAAA"
              },
              "Id": "0013h000000001fAAA",
              "Name": "Initech",
              "Industry": null,
              "AnnualRevenue": null,
              "NumberOfEmployees": 10,
              "CreatedDate": "2024-05-29T15:00:00.000+0000",
              "Owner": {
                "attributes": {
                  "type": "User",
                  "url": "/services/data/v62.0/sobjects/User/0053h0000000001AAA"
                },
                "Name": "Dana Demo"
              },
              "Contacts": null,
              "Opportunities": null
            }
          ]
        }"#]]
    .assert_eq(&json(&response));
}

#[test]
fn parent_paths_nest_and_empty_lookups_are_null() {
    let org = org();
    let response = org.query(
        "SELECT LastName, Account.Name, Account.Owner.Alias, Account.Industry FROM Contact \
         WHERE LastName IN ('Smith', 'Orphan') ORDER BY LastName",
    );
    expect![[r#"
        {
          "totalSize": 2,
          "done": true,
          "records": [
            {
              "attributes": {
                "type": "Contact",
                "url": "/services/data/v62.0/sobjects/Contact/0033h000000001lAAA"
              },
              "LastName": "Orphan",
              "Account": null
            },
            {
              "attributes": {
                "type": "Contact",
                "url": "/services/data/v62.0/sobjects/Contact/0033h000000001iAAA"
              },
              "LastName": "Smith",
              "Account": {
                "attributes": {
                  "type": "Account",
                  "url": "/services/data/v62.0/sobjects/Account/0013h000000001dAAA"
                },
                "Name": "Acme",
                "Owner": {
                  "attributes": {
                    "type": "User",
                    "url": "/services/data/v62.0/sobjects/User/0053h0000000001AAA"
                  },
                  "Alias": "ddemo"
                },
                "Industry": "Energy"
              }
            }
          ]
        }"#]]
    .assert_eq(&json(&response));
    let tasks =
        org.query("SELECT Subject, What.Name, Who.Name FROM Task WHERE Subject = 'Call Ann'");
    let record = &tasks.records[0];
    let Some(Cell::Parent(Some(what))) = record.get("What") else {
        panic!("{record:?}");
    };
    assert_eq!(what.object(), "Account");
    assert_eq!(what.value("Name"), Some(&Value::text("Acme")));
    let Some(Cell::Parent(Some(who))) = record.get("Who") else {
        panic!("{record:?}");
    };
    assert_eq!((who.object(), who.id()), ("Contact", Some(org.id("smith"))));
    assert_eq!(who.value("Name"), Some(&Value::text("Ann Smith")));
    let lead_tasks =
        org.query("SELECT LastName, (SELECT Subject FROM Tasks) FROM Lead WHERE LastName = 'Hill'");
    let Some(Cell::Children(Some(children))) = lead_tasks.records[0].get("Tasks") else {
        panic!("{lead_tasks:?}");
    };
    assert_eq!(children.total_size, 1);
    assert_eq!(
        children.records[0].value("Subject"),
        Some(&Value::text("Lead intro"))
    );
}

#[test]
fn aggregates_group_by_and_having() {
    let org = org();
    let response = org.query(
        "SELECT Industry, COUNT(Id), MAX(AnnualRevenue) top FROM Account GROUP BY Industry ORDER BY Industry NULLS LAST",
    );
    expect![[r#"
        {
          "totalSize": 3,
          "done": true,
          "records": [
            {
              "attributes": {
                "type": "AggregateResult"
              },
              "Industry": "Energy",
              "expr0": 2,
              "top": 1000000.0
            },
            {
              "attributes": {
                "type": "AggregateResult"
              },
              "Industry": "Technology",
              "expr0": 1,
              "top": 500000.0
            },
            {
              "attributes": {
                "type": "AggregateResult"
              },
              "Industry": null,
              "expr0": 1,
              "top": null
            }
          ]
        }"#]]
    .assert_eq(&json(&response));
    let totals = org.query(
        "SELECT COUNT(Id) n, COUNT(Industry), COUNT_DISTINCT(Industry), SUM(AnnualRevenue), AVG(AnnualRevenue), MIN(Name), MAX(Name), SUM(NumberOfEmployees) FROM Account",
    );
    assert_eq!(
        totals.to_json()["records"][0],
        json!({"attributes": {"type": "AggregateResult"}, "n": 4, "expr0": 3, "expr1": 2,
               "expr2": 1750000.0, "expr3": 1750000.0 / 3.0, "expr4": "Acme", "expr5": "Umbrella Corp", "expr6": 260})
    );
    let none = org.query("SELECT COUNT(Id), SUM(AnnualRevenue) FROM Account WHERE Name = 'nobody'");
    assert_eq!(
        none.to_json(),
        json!({"totalSize": 1, "done": true, "records": [{"attributes": {"type": "AggregateResult"}, "expr0": 0, "expr1": null}]})
    );
    let having = org.query(
        "SELECT Account.Name, SUM(Amount) total FROM Opportunity GROUP BY Account.Name HAVING SUM(Amount) > 1000 ORDER BY SUM(Amount) DESC",
    );
    assert_eq!(
        having.to_json()["records"],
        json!([
            {"attributes": {"type": "AggregateResult"}, "Name": "Umbrella Corp", "total": 5000.0},
            {"attributes": {"type": "AggregateResult"}, "Name": "Acme", "total": 1250.5}
        ])
    );
    let by_stage = org.query(
        "SELECT StageName, COUNT(Id) FROM Opportunity WHERE CloseDate = THIS_QUARTER GROUP BY StageName HAVING COUNT(Id) = 1 ORDER BY StageName LIMIT 2 OFFSET 1",
    );
    assert_eq!(
        by_stage
            .records
            .iter()
            .map(|r| r
                .value("StageName")
                .and_then(Value::as_text)
                .unwrap()
                .to_owned())
            .collect::<Vec<_>>(),
        ["Closed Won", "Negotiation/Review"]
    );
}

#[test]
fn errors_carry_salesforce_codes_and_messages() {
    let org = org();
    let custom = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";
    let relationship = "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.";
    let table: Vec<(&str, &str, String)> = vec![
        ("SELECT Id FROM Foo", "INVALID_TYPE", "sObject type 'Foo' is not supported.".into()),
        ("SELECT Foo FROM Account", "INVALID_FIELD", format!("No such column 'Foo' on entity 'Account'. {custom}")),
        ("SELECT Account.Foo FROM Contact", "INVALID_FIELD", format!("No such column 'Foo' on entity 'Account'. {custom}")),
        ("SELECT Id FROM Account WHERE Bar__c = 1", "INVALID_FIELD", format!("No such column 'Bar__c' on entity 'Account'. {custom}")),
        ("SELECT Id FROM Account ORDER BY Baz", "INVALID_FIELD", format!("No such column 'Baz' on entity 'Account'. {custom}")),
        ("SELECT What.Industry FROM Task", "INVALID_FIELD", format!("No such column 'Industry' on entity 'Name'. {custom}")),
        ("SELECT Bogus.Name FROM Contact", "INVALID_FIELD", format!("Didn't understand relationship 'Bogus' in field path. {relationship}")),
        ("SELECT Id, (SELECT Id FROM Bogus) FROM Account", "INVALID_TYPE", format!("Didn't understand relationship 'Bogus' in FROM part of query call. {relationship}")),
        ("SELECT Id FROM Account WHERE Name = 5", "INVALID_FIELD", "value of filter criterion for field 'Name' must be of type string and should be enclosed in quotes".into()),
        ("SELECT Id FROM Account WHERE AnnualRevenue = '5'", "INVALID_FIELD", "value of filter criterion for field 'AnnualRevenue' must be of type double and should not be enclosed in quotes".into()),
        ("SELECT Id FROM Opportunity WHERE CloseDate = '2024-01-01'", "INVALID_FIELD", "value of filter criterion for field 'CloseDate' must be of type date and should not be enclosed in quotes".into()),
        ("SELECT Id FROM Opportunity WHERE IsWon = 'true'", "INVALID_FIELD", "value of filter criterion for field 'IsWon' must be of type boolean and should not be enclosed in quotes".into()),
        ("SELECT Id FROM Account WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: abc".into()),
        ("SELECT Id FROM Account WHERE Industry INCLUDES ('Energy')", "INVALID_QUERY_FILTER_OPERATOR", "includes or excludes operator only valid on multipicklist field".into()),
        ("SELECT Name, COUNT(Id) FROM Account GROUP BY Industry", "MALFORMED_QUERY", "Field must be grouped or aggregated: Name".into()),
        ("SELECT SUM(Name) FROM Account", "INVALID_FIELD", "field Name does not support aggregate operator SUM".into()),
        ("SELECT Id FROM Account ORDER BY Description", "INVALID_FIELD", "field 'Description' can not be sorted in a query call".into()),
        ("SELECT Id FROM Account WHERE Description = 'x'", "INVALID_FIELD", "field 'Description' can not be filtered in a query call".into()),
        ("SELECT CreatedDate, COUNT(Id) FROM Account GROUP BY CreatedDate", "INVALID_FIELD", "field 'CreatedDate' can not be grouped in a query call".into()),
        ("SELECT Id, Name, id FROM Account", "MALFORMED_QUERY", "duplicate field selected: Id".into()),
        ("SELECT Id FROM Account OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000".into()),
    ];
    for (soql, code, message) in &table {
        assert_eq!(
            org.error(soql),
            ((*code).to_owned(), message.clone()),
            "{soql}"
        );
    }
    let (code, message) = org.error("SELECT Id FORM Account");
    assert_eq!(code, "MALFORMED_QUERY");
    assert!(
        message.starts_with("\nSELECT Id FORM Account\n")
            && message.contains("ERROR at Row:1:Column:"),
        "{message}"
    );
}

/// An org with `n` leads, for paging.
fn paging_org(n: usize, locators: QueryLocators) -> Org {
    let store = Store::new(now());
    {
        let mut data = store.write();
        let user = data.users().admin;
        let mut txn = Txn::new(&mut data, user, now());
        for i in 0..n {
            txn.insert(
                "Lead",
                &body(json!({"LastName": format!("Lead {i:04}"), "Company": "Paging Inc"})),
            )
            .unwrap();
        }
    }
    Org {
        store,
        locators,
        ids: HashMap::new(),
    }
}

fn next(
    org: &Org,
    url: &str,
    when: DateTime<Utc>,
) -> Result<QueryResponse, salesforce_sandbox::ApiFailure> {
    let locator = url.strip_prefix("/services/data/v62.0/query/").unwrap();
    let data = org.store.read();
    soql_engine::next_page(&data, &org.locators, "62.0", locator, when)
}

fn last_names(response: &QueryResponse) -> Vec<String> {
    response
        .records
        .iter()
        .map(|r| {
            r.value("LastName")
                .and_then(Value::as_text)
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn paging_follows_locators_across_pages() {
    let org = paging_org(450, QueryLocators::default());
    let soql = "SELECT LastName FROM Lead ORDER BY LastName DESC";
    let first = org
        .run_with(
            soql,
            false,
            batch_size_from_options(Some("batchSize=200")),
            now(),
        )
        .unwrap();
    assert_eq!(
        (first.total_size, first.done, first.records.len()),
        (450, false, 200)
    );
    let url = first.next_records_url.clone().unwrap();
    assert!(
        url.starts_with("/services/data/v62.0/query/01g") && url.ends_with("-200"),
        "{url}"
    );
    let second = next(&org, &url, now()).unwrap();
    assert_eq!(
        (second.total_size, second.done, second.records.len()),
        (450, false, 200)
    );
    let url2 = second.next_records_url.clone().unwrap();
    assert!(url2.ends_with("-400"), "{url2}");
    let third = next(&org, &url2, now() + Duration::minutes(10)).unwrap();
    assert_eq!(
        (
            third.total_size,
            third.done,
            third.records.len(),
            third.next_records_url.clone()
        ),
        (450, true, 50, None)
    );
    let mut all = last_names(&first);
    all.extend(last_names(&second));
    all.extend(last_names(&third));
    let expected: Vec<String> = (0..450).rev().map(|i| format!("Lead {i:04}")).collect();
    assert_eq!(all, expected);
    // A LIMIT sorts only what it keeps; ties stay in table order.
    assert_eq!(
        last_names(&org.query("SELECT LastName FROM Lead ORDER BY LastName DESC LIMIT 3 OFFSET 2")),
        ["Lead 0447", "Lead 0446", "Lead 0445"]
    );
    assert_eq!(
        last_names(&org.query("SELECT LastName FROM Lead ORDER BY Company, Email LIMIT 3")),
        ["Lead 0000", "Lead 0001", "Lead 0002"]
    );
    // The locator is released once its last page is read.
    let gone = next(&org, &url2, now()).unwrap_err();
    assert_eq!(
        (
            gone.status.as_u16(),
            gone.code(),
            gone.errors[0].message.as_str()
        ),
        (400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    );
    // Small results need no locator.
    let small = org
        .run_with("SELECT LastName FROM Lead LIMIT 200", false, 200, now())
        .unwrap();
    assert_eq!((small.done, small.next_records_url), (true, None));
    assert_eq!(org.locators.live(now()), 0);
    // Malformed locators.
    for bad in ["nonsense", "01g3h0000000001AAA", "01g3h0000000001AAA-x"] {
        let data = org.store.read();
        let err = soql_engine::next_page(&data, &org.locators, "62.0", bad, now()).unwrap_err();
        assert_eq!(err.code(), "INVALID_QUERY_LOCATOR", "{bad}");
    }
}

#[test]
fn locators_expire_and_the_oldest_is_evicted() {
    let org = paging_org(250, QueryLocators::new(Duration::minutes(15), 2));
    let soql = "SELECT LastName FROM Lead";
    let url = |when| {
        org.run_with(soql, false, 200, when)
            .unwrap()
            .next_records_url
            .unwrap()
    };
    let kept = url(now());
    // Used within the time to live: still there, and reading refreshes it.
    let refreshed = url(now());
    assert!(next(&org, &refreshed, now() + Duration::minutes(14)).is_ok());
    // Unused for longer than the time to live: gone.
    assert_eq!(
        next(&org, &kept, now() + Duration::minutes(16))
            .unwrap_err()
            .code(),
        "INVALID_QUERY_LOCATOR"
    );
    // At most two live: a third evicts the oldest.
    let a = url(now());
    let b = url(now());
    let c = url(now());
    assert_eq!(org.locators.live(now()), 2);
    assert_eq!(
        next(&org, &a, now()).unwrap_err().code(),
        "INVALID_QUERY_LOCATOR"
    );
    assert_eq!(next(&org, &b, now()).unwrap().records.len(), 50);
    assert_eq!(next(&org, &c, now()).unwrap().records.len(), 50);
    let d = url(now());
    org.locators.clear();
    assert_eq!(
        next(&org, &d, now()).unwrap_err().code(),
        "INVALID_QUERY_LOCATOR"
    );
    assert_eq!(batch_size_from_options(Some("batchSize=5000")), 2000);
    assert_eq!(batch_size_from_options(Some("foo=1, batchSize = 300")), 300);
    assert_eq!(batch_size_from_options(Some("batchSize=abc")), 2000);
}

/// Results over a generated dataset, checked against counts computed straight from the rows.
#[test]
fn generated_dataset_matches_direct_computation() {
    let store = Store::new(now());
    dataset::generate(&mut store.write(), DatasetSize::Demo, 7, now(), &mut |_| {});
    let org = Org {
        store,
        locators: QueryLocators::default(),
        ids: HashMap::new(),
    };
    let guard = org.store.read();
    let data: &salesforce_sandbox::store::OrgData = &guard;
    let field = |object: &str, name: &str| {
        let (_, def, _) = data.object(object).unwrap();
        def.field_index(name).unwrap()
    };
    let rows = |object: &str| {
        let (obj, _, table) = data.object(object).unwrap();
        table
            .rows()
            .iter()
            .filter(move |r| !data.is_deleted(obj, r))
            .collect::<Vec<_>>()
    };
    let leads = rows("Lead");
    let rating = field("Lead", "Rating");
    let mut by_rating: HashMap<Option<String>, i64> = HashMap::new();
    for lead in &leads {
        *by_rating
            .entry(lead.get(rating).as_text().map(str::to_owned))
            .or_default() += 1;
    }
    for (value, count) in &by_rating {
        let soql = match value {
            Some(v) => format!("SELECT COUNT() FROM Lead WHERE Rating = '{v}'"),
            None => "SELECT COUNT() FROM Lead WHERE Rating = null".to_owned(),
        };
        assert_eq!(org.query(&soql).total_size as i64, *count, "{soql}");
    }
    let grouped = org.query("SELECT Rating, COUNT(Id) FROM Lead GROUP BY Rating");
    let engine: HashMap<Option<String>, i64> = grouped
        .records
        .iter()
        .map(|r| {
            let key = r
                .value("Rating")
                .and_then(Value::as_text)
                .map(str::to_owned);
            let Some(Value::Int(n)) = r.value("expr0") else {
                panic!("{r:?}")
            };
            (key, *n)
        })
        .collect();
    assert_eq!(engine, by_rating);

    // Relative datetimes: created in the last 30 days (today included, whole UTC days).
    let created = field("Lead", "CreatedDate");
    let first_day = NaiveDate::from_ymd_opt(2024, 4, 29).unwrap();
    let recent = leads
        .iter()
        .filter(|l| matches!(l.get(created), Value::DateTime(t) if t.date_naive() >= first_day && t.date_naive() <= now().date_naive()))
        .count();
    assert_eq!(
        org.query("SELECT COUNT() FROM Lead WHERE CreatedDate = LAST_N_DAYS:30")
            .total_size,
        recent
    );

    // An indexed equality with a range on another field, paged with the default batch size.
    let opportunities = rows("Opportunity");
    let (stage, amount) = (
        field("Opportunity", "StageName"),
        field("Opportunity", "Amount"),
    );
    let expected: HashSet<RecordId> = opportunities
        .iter()
        .filter(|o| {
            o.get(stage).as_text() == Some("Closed Won")
                && o.get(amount).as_f64().is_some_and(|a| a > 10_000.0)
        })
        .map(|o| o.id)
        .collect();
    let won =
        org.query("SELECT Id FROM Opportunity WHERE StageName = 'closed won' AND Amount > 10000");
    let got: HashSet<RecordId> = won.records.iter().filter_map(|r| r.id()).collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);

    // Children through subqueries add up to the contacts that have an account.
    let account_id = field("Contact", "AccountId");
    let with_account = rows("Contact")
        .iter()
        .filter(|c| !c.get(account_id).is_null())
        .count();
    drop(guard);
    let mut seen = 0usize;
    let mut page = org.query("SELECT Id, (SELECT Id FROM Contacts) FROM Account");
    let mut pages = 1;
    loop {
        for record in &page.records {
            if let Some(Cell::Children(Some(children))) = record.get("Contacts") {
                seen += children.total_size;
            }
        }
        match page.next_records_url.clone() {
            Some(url) => {
                page = next(&org, &url, now()).unwrap();
                pages += 1;
            }
            None => break,
        }
    }
    assert_eq!(seen, with_account);
    assert!(pages >= 1);

    // Every task, across pages of 2,000.
    let total_tasks = org
        .store
        .read()
        .counts()
        .into_iter()
        .find(|(n, _)| n == "Task")
        .unwrap()
        .1;
    let mut page = org.query("SELECT Id, What.Name FROM Task");
    let mut ids: HashSet<RecordId> = page.records.iter().filter_map(|r| r.id()).collect();
    let mut pages = 1;
    while let Some(url) = page.next_records_url.clone() {
        page = next(&org, &url, now()).unwrap();
        ids.extend(page.records.iter().filter_map(|r| r.id()));
        pages += 1;
    }
    assert_eq!(ids.len(), total_tasks);
    assert_eq!(pages, total_tasks.div_ceil(2000));
}

#[test]
fn subqueries_filter_order_limit_and_see_deleted_children_only_in_query_all() {
    let org = org();
    {
        let mut data = org.store.write();
        let user = data.users().admin;
        let mut txn = Txn::new(&mut data, user, now());
        txn.delete("Contact", org.id("jones").as_str()).unwrap();
    }
    let soql = "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName DESC LIMIT 5), \
                (SELECT Name FROM Opportunities WHERE Amount != null ORDER BY Amount DESC LIMIT 1) \
                FROM Account WHERE Name = 'Acme'";
    let children = |response: &QueryResponse, relationship: &str| -> Vec<String> {
        match response.records[0].get(relationship) {
            Some(Cell::Children(Some(result))) => result
                .records
                .iter()
                .map(|r| match r.cells().next() {
                    Some((_, Cell::Value(Value::Text(t)))) => t.to_string(),
                    other => panic!("{other:?}"),
                })
                .collect(),
            Some(Cell::Children(None)) => Vec::new(),
            other => panic!("{other:?}"),
        }
    };
    let live = org.query(soql);
    assert_eq!(children(&live, "Contacts"), ["Smith"]);
    assert_eq!(children(&live, "Opportunities"), ["Acme Big"]);
    let all = org.run_with(soql, true, 2000, now()).unwrap();
    assert_eq!(children(&all, "Contacts"), ["Smith", "Jones"]);
}
