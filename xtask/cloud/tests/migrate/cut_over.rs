//! The cut-over's last steps: a catch-up run copies what changed in the source while the
//! new API is already in use, and the verification pass says, by its exit code, whether
//! the tables agree.

use crate::support::{Engine, Item, original, s, source_items, table, text};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use tickets_domain::Timestamp;

/// `migrate`'s exit code when the tables do not agree.
const NOT_VERIFIED: i32 = 5;

#[test]
fn verification_exits_5_and_names_the_tickets_that_differ() {
    let engine = Engine::start();
    let (source, target) = (table("dyn-tickets"), table("tickets"));
    engine.create_source(&source);
    engine.create_target(&target);
    let (items, _) = source_items(300, 0);
    engine.seed(&source, items.clone());
    let first = engine.migrate(&source, &target, &["--json"]).code(0).json();
    assert_eq!(first["outcome"], "verified");

    // Behind the migration's back: one ticket edited as if by the migration, one deleted.
    let (edited, deleted) = (text(&items[7], "id"), text(&items[8], "id"));
    let mut ticket = engine
        .scan(&target)
        .into_iter()
        .find(|t| text(t, "id") == edited)
        .expect("the edited ticket");
    ticket.insert("title".into(), s("Not what the source says"));
    engine.put(&target, ticket);
    engine.delete(&target, "pk", &format!("TICKET#{deleted}"));

    let run = engine
        .migrate(
            &source,
            &target,
            &["--verify-only", "--sample", "1000", "--json"],
        )
        .code(NOT_VERIFIED);
    let report = run.json();
    assert_eq!(report["outcome"], "not_verified", "{report:#}");
    assert_eq!(
        report["counts"]["copied"], 0,
        "--verify-only writes nothing"
    );
    let verification = &report["verification"];
    assert_eq!(verification["digest_equal"], false);
    let status = text(&items[8], "status");
    assert_eq!(verification["source"][status], 60);
    assert_eq!(verification["target"][status], 59);
    assert_eq!(verification["sampled"], 300);
    let mismatches: Vec<(&str, Vec<&str>)> = verification["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let fields = m["fields"].as_array().unwrap();
            (
                m["id"].as_str().unwrap(),
                fields.iter().map(|f| f.as_str().unwrap()).collect(),
            )
        })
        .collect();
    let mut expected = vec![(edited, vec!["title"]), (deleted, vec!["missing"])];
    expected.sort();
    assert_eq!(mismatches, expected);
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);

    // A rerun copies the deleted ticket back and reports the edited one; it still does not
    // verify until someone decides which title is right.
    let rerun = engine
        .migrate(&source, &target, &["--json"])
        .code(NOT_VERIFIED);
    let rerun = rerun.json();
    assert_eq!(rerun["counts"]["copied"], 1);
    assert_eq!(rerun["counts"]["conflicts"], 1);
    assert_eq!(rerun["conflicts"][0]["id"], edited);
    assert_eq!(engine.scan(&target).len(), 300);
}

#[test]
fn a_catch_up_copies_what_changed_and_never_overwrites_the_new_api() {
    let engine = Engine::start();
    let (source, target) = (table("dyn-tickets"), table("tickets"));
    engine.create_source(&source);
    engine.create_target(&target);
    let (items, _) = source_items(200, 0);
    engine.seed(&source, items.clone());
    engine.migrate(&source, &target, &["--json"]).code(0);

    // Writes continue in the old system: 10 tickets change, 5 are new.
    let now = Timestamp::now().to_string();
    let mut changed = Vec::new();
    for original in items.iter().take(10) {
        let mut item = original.clone();
        item.insert("title".into(), s("Changed in the old system"));
        item.insert("updatedAt".into(), s(&now));
        engine.put(&source, item);
        changed.push(text(original, "id").to_owned());
    }
    let fresh: Vec<Item> = (1_000..1_005)
        .map(|i| {
            let mut item = original(i);
            item.insert("createdAt".into(), s(&now));
            item.insert("updatedAt".into(), s(&now));
            item
        })
        .collect();
    engine.seed(&source, fresh.clone());
    // Someone already uses the new API on three tickets, one of them changed in the old one.
    let migrated: HashMap<String, Item> = engine
        .scan(&target)
        .into_iter()
        .map(|i| (text(&i, "id").to_owned(), i))
        .collect();
    let api_changed = [
        changed[0].clone(),
        text(&items[50], "id").to_owned(),
        text(&items[51], "id").to_owned(),
    ];
    for id in &api_changed {
        let mut ticket = migrated[id].clone();
        ticket.insert("title".into(), s("Changed through the API"));
        ticket.insert("updatedBy".into(), s("a-cognito-sub"));
        ticket.insert("version".into(), AttributeValue::N("2".into()));
        engine.put(&target, ticket);
    }

    let catch_up = engine
        .migrate(&source, &target, &["--since", "checkpoint", "--json"])
        .code(NOT_VERIFIED);
    let report = catch_up.json();
    let counts = &report["counts"];
    assert_eq!(counts["copied"], 5, "{report:#}");
    assert_eq!(counts["updated"], 9);
    assert_eq!(counts["conflicts"], 1);
    assert_eq!(counts["unchanged"], 190);
    assert_eq!(report["conflicts"][0]["id"], changed[0].as_str());
    assert!(
        report["conflicts"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("new API")
    );
    assert_eq!(
        report["outcome"], "not_verified",
        "the API's changes differ from the source"
    );

    let after: HashMap<String, Item> = engine
        .scan(&target)
        .into_iter()
        .map(|i| (text(&i, "id").to_owned(), i))
        .collect();
    assert_eq!(after.len(), 205);
    for id in &changed[1..] {
        assert_eq!(text(&after[id], "title"), "Changed in the old system");
        assert_eq!(after[id]["version"], AttributeValue::N("2".into()));
    }
    for id in &api_changed {
        assert_eq!(
            text(&after[id], "title"),
            "Changed through the API",
            "{id} was overwritten"
        );
    }
    for item in &fresh {
        assert!(after.contains_key(text(item, "id")));
    }

    // A plain rerun copies nothing more and names the three the API changed.
    let rerun = engine
        .migrate(&source, &target, &["--json"])
        .code(NOT_VERIFIED)
        .json();
    assert_eq!(rerun["counts"]["copied"], 0);
    assert_eq!(rerun["counts"]["already_migrated"], 202);
    assert_eq!(rerun["counts"]["conflicts"], 3);
}
