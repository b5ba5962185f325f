//! `cargo xtask migrate` end to end: the real binary copying an original table into a new
//! one, both in dynoxide, checked item by item against the source.

mod cut_over;
mod pacing;
mod support;
mod throttling;

use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{Engine, Item, MALFORMED, source_items, table, text};
use tickets_domain::Timestamp;

/// The prefix of `createdBy`/`updatedBy` of migrated tickets.
pub const ACTOR: &str = "migration:";

/// The attributes a migrated ticket has: the model's, the keys, nothing else.
const STORED: &[&str] = &[
    "pk",
    "listKey",
    "createdKey",
    "id",
    "title",
    "description",
    "priority",
    "status",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "version",
];

/// Every valid source item is in the target, equal field by field; nothing else is.
#[track_caller]
pub fn assert_migrated(engine: &Engine, source: &str, target: &str, valid: &[&Item]) {
    let migrated: HashMap<String, Item> = engine
        .scan(target)
        .into_iter()
        .map(|item| (text(&item, "id").to_owned(), item))
        .collect();
    assert_eq!(migrated.len(), valid.len(), "tickets in the target");
    let actor = format!("{ACTOR}{source}");
    let time = |text: &str| Timestamp::parse(text).unwrap_or_else(|| panic!("time {text:?}"));
    for original in valid {
        let id = text(original, "id");
        let ticket = migrated
            .get(id)
            .unwrap_or_else(|| panic!("ticket {id} was not migrated"));
        assert_eq!(text(ticket, "pk"), format!("TICKET#{id}"));
        assert_eq!(
            text(ticket, "title"),
            text(original, "title").trim(),
            "{id}"
        );
        assert_eq!(
            ticket.get("description"),
            original.get("description"),
            "{id}"
        );
        assert_eq!(text(ticket, "status"), text(original, "status"), "{id}");
        assert_eq!(text(ticket, "priority"), "MEDIUM");
        let created = time(text(original, "createdAt"));
        assert_eq!(time(text(ticket, "createdAt")), created, "{id}");
        assert_eq!(text(ticket, "createdAt"), created.to_string());
        assert_eq!(
            time(text(ticket, "updatedAt")),
            time(text(original, "updatedAt"))
        );
        assert_eq!(text(ticket, "createdKey"), format!("{created}#{id}"));
        assert_eq!(text(ticket, "listKey"), "TICKET");
        assert_eq!(
            (text(ticket, "createdBy"), text(ticket, "updatedBy")),
            (actor.as_str(), actor.as_str())
        );
        assert_eq!(
            ticket.get("version"),
            Some(&aws_sdk_dynamodb::types::AttributeValue::N("1".into()))
        );
        let mut names: Vec<&str> = ticket.keys().map(String::as_str).collect();
        names.retain(|name| !STORED.contains(name));
        assert!(names.is_empty(), "{id} has attributes {names:?}");
        // The function reads it as the API's ticket.
        serde_dynamo::from_item::<_, tickets_domain::stored::StoredTicket>(ticket.clone())
            .unwrap_or_else(|e| panic!("{id} is not a stored ticket: {e}"));
    }
}

#[test]
fn migrates_every_valid_item_reports_every_malformed_one_and_a_rerun_copies_nothing() {
    let engine = Engine::start();
    let (source, target) = (table("dyn-tickets"), table("tickets"));
    engine.create_source(&source);
    engine.create_target(&target);
    let (items, malformed) = source_items(10_000, 50);
    let valid: Vec<&Item> = items
        .iter()
        .filter(|i| !malformed.contains_key(text(i, "id")))
        .collect();
    let tagged = valid.iter().filter(|i| i.contains_key("tags")).count() as u64;
    engine.seed(&source, items.clone());

    let started = Instant::now();
    let report = engine
        .migrate(&source, &target, &["--skip-invalid", "--json"])
        .code(0)
        .json();
    eprintln!(
        "migrated 10 000 items in {:.1?} ({} items/s while copying)",
        started.elapsed(),
        report["items_per_second"]
    );
    let counts = &report["counts"];
    assert_eq!(report["outcome"], "verified", "{report:#}");
    assert_eq!(counts["scanned"], 10_000);
    assert_eq!(counts["copied"], 9_950);
    assert_eq!(counts["invalid"], 50);
    assert_eq!(counts["conflicts"], 0);
    assert_eq!(report["extra_fields"]["tags"], tagged);
    // Each malformed item is reported once, with its problem, a reason and a fix.
    let invalid = report["invalid"].as_array().unwrap();
    assert_eq!(invalid.len(), 50);
    for entry in invalid {
        let id = entry["id"].as_str().unwrap();
        let problems = entry["problems"].as_array().unwrap();
        let codes: Vec<&str> = problems
            .iter()
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, vec![malformed[id]], "{id}");
        assert!(
            problems[0]["reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty())
        );
        assert!(problems[0]["fix"].as_str().is_some_and(|f| !f.is_empty()));
    }
    let ways: std::collections::BTreeSet<&str> = malformed.values().copied().collect();
    assert_eq!(
        ways.len(),
        MALFORMED.len(),
        "every way of being malformed is covered"
    );
    let verification = &report["verification"];
    assert_eq!(verification["digest_equal"], true);
    assert_eq!(verification["sampled"], 200);
    assert_eq!(verification["source"], verification["target"]);
    assert_migrated(&engine, &source, &target, &valid);

    // Newest first, as the original listed them.
    let mut by_created: Vec<&&Item> = valid.iter().collect();
    by_created.sort_by_key(|i| std::cmp::Reverse(Timestamp::parse(text(i, "createdAt")).unwrap()));
    let expected: Vec<&str> = by_created.iter().take(50).map(|i| text(i, "id")).collect();
    assert_eq!(engine.newest(&target, 50), expected);

    // A rerun copies nothing: everything is already there, equal.
    let rerun = engine
        .migrate(&source, &target, &["--skip-invalid", "--json"])
        .code(0)
        .json();
    assert_eq!(rerun["counts"]["copied"], 0);
    assert_eq!(rerun["counts"]["already_migrated"], 9_950);
    assert_eq!(rerun["outcome"], "verified");

    // --repair copies the 25 that can be repaired safely, and says how each was.
    let repaired = engine
        .migrate(&source, &target, &["--repair", "--json"])
        .code(0)
        .json();
    assert_eq!(repaired["counts"]["copied"], 25, "{repaired:#}");
    assert_eq!(repaired["counts"]["repaired"], 25);
    assert_eq!(repaired["counts"]["invalid"], 25);
    assert_eq!(repaired["outcome"], "verified");
    let after: HashMap<String, Item> = engine
        .scan(&target)
        .into_iter()
        .map(|item| (text(&item, "id").to_owned(), item))
        .collect();
    assert_eq!(after.len(), 9_975);
    for (id, way) in &malformed {
        let repairable = MALFORMED.iter().any(|(w, r)| w == way && *r);
        assert_eq!(after.contains_key(id), repairable, "{id}: {way}");
        let Some(ticket) = after.get(id) else {
            continue;
        };
        match *way {
            "title_too_long" => {
                assert_eq!(text(ticket, "title").chars().count(), 200);
                assert!(text(ticket, "title").ends_with('…'));
            }
            "title_control_characters" => assert_eq!(text(ticket, "title"), "Two lines"),
            "status_spelling" => assert_eq!(text(ticket, "status"), "IN_PROGRESS"),
            "status_missing" => assert_eq!(text(ticket, "status"), "NEW"),
            "created_at_epoch_millis" => assert!(text(ticket, "createdAt").ends_with(".000000Z")),
            other => panic!("{other} was copied"),
        }
    }
}

#[test]
fn stops_before_writing_anything_when_an_item_is_malformed() {
    let engine = Engine::start();
    let (source, target) = (table("dyn-tickets"), table("tickets"));
    engine.create_source(&source);
    engine.create_target(&target);
    let (items, malformed) = source_items(300, 10);
    engine.seed(&source, items);

    let refused = engine.migrate(&source, &target, &["--json"]).code(3);
    let report = refused.json();
    assert_eq!(report["outcome"], "refused");
    assert_eq!(report["counts"]["invalid"], 10);
    assert_eq!(report["invalid"].as_array().unwrap().len(), malformed.len());
    assert!(refused.stderr.contains("--repair"), "{}", refused.stderr);
    assert!(engine.scan(&target).is_empty(), "nothing was written");

    // Without --json the same report is for a person: each item, its reason and its fix.
    let text_run = engine.migrate(&source, &target, &["--dry-run"]).code(3);
    for id in malformed.keys() {
        assert!(
            text_run.stdout.contains(id.as_str()),
            "{id} not listed:\n{}",
            text_run.stdout
        );
    }
    assert!(
        text_run
            .stdout
            .contains("give the ticket a title in the source")
    );

    let dry = engine
        .migrate(&source, &target, &["--dry-run", "--repair", "--json"])
        .code(0)
        .json();
    assert_eq!(dry["outcome"], "dry_run");
    assert_eq!(dry["counts"]["would_copy"], 295);
    assert_eq!(dry["counts"]["repaired"], 5);
    assert!(engine.scan(&target).is_empty(), "a dry run writes nothing");
}

#[test]
fn a_run_killed_half_way_resumes_with_nothing_missing_and_nothing_twice() {
    let engine = Engine::start();
    let (source, target) = (table("dyn-tickets"), table("tickets"));
    engine.create_source(&source);
    engine.create_target(&target);
    let (items, malformed) = source_items(10_000, 50);
    let valid: Vec<&Item> = items
        .iter()
        .filter(|i| !malformed.contains_key(text(i, "id")))
        .collect();
    engine.seed(&source, items.clone());

    // Small pages and few writes in flight, so that the kill lands half-way.
    let flags = [
        "--skip-invalid",
        "--page-size",
        "100",
        "--concurrency",
        "4",
        "--segments",
        "4",
    ];
    let mut child = engine.spawn(&source, &target, &flags);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let recorded: u64 = engine
            .checkpoint(&source, &target)
            .and_then(|c| {
                c["run"]["segments"].as_array().map(|s| {
                    s.iter()
                        .map(|s| s["counts"]["scanned"].as_u64().unwrap_or(0))
                        .sum()
                })
            })
            .unwrap_or(0);
        if recorded >= 3_000 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the kill"
        );
        assert!(Instant::now() < deadline, "no progress in two minutes");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let checkpoint = engine.checkpoint(&source, &target).unwrap();
    assert!(
        checkpoint["run"]["finished_at"].is_null(),
        "killed before the end"
    );
    let before = engine.scan(&target).len();
    assert!(
        before > 0 && before < 9_950,
        "{before} copied before the kill"
    );

    let report = engine
        .migrate(&source, &target, &["--resume", "--skip-invalid", "--json"])
        .code(0)
        .json();
    assert_eq!(report["outcome"], "verified", "{report:#}");
    assert_eq!(report["resumed"], true);
    let counts = &report["counts"];
    assert_eq!(
        counts["scanned"], 10_000,
        "every item read once, over both runs"
    );
    assert_eq!(counts["invalid"], 50, "every malformed item reported once");
    let copied = counts["copied"].as_u64().unwrap();
    let already = counts["already_migrated"].as_u64().unwrap();
    assert_eq!(copied + already, 9_950);
    // Only the pages in flight at the kill (at most one of 100 items per segment) are
    // read again; their tickets are found already there.
    assert!(already <= 400, "{already} re-read");
    assert_migrated(&engine, &source, &target, &valid);
}
