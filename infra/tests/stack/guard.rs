//! The policy rules in `infra/guard/*.guard` hold for every environment, and each one
//! catches the template that breaks it.

use crate::common::{environments, json};
use serde_json::{Value, json};
use std::path::Path;

/// One rules file.
struct RulesFile {
    name: String,
    text: String,
}

fn rules_files() -> Vec<RulesFile> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("guard");
    let mut files: Vec<RulesFile> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "guard"))
        .map(|path| RulesFile {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            text: std::fs::read_to_string(&path).unwrap(),
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(!files.is_empty(), "no rules in {}", dir.display());
    files
}

/// Rule names by outcome, from cfn-guard's report.
#[derive(Debug, Default)]
struct Outcome {
    failed: Vec<String>,
    passed: Vec<String>,
    skipped: Vec<String>,
}

fn check(template: &Value) -> Outcome {
    let data = serde_json::to_string(template).unwrap();
    let mut outcome = Outcome::default();
    for rules in rules_files() {
        // The verbose record rather than the summary: cfn-guard 3.2.1 returns only the last
        // 8 KiB of a summary (what its `BufWriter` has not flushed yet), which a template
        // failing a rule on many resources exceeds.
        let record = cfn_guard::run_checks(
            cfn_guard::ValidateInput {
                content: &data,
                file_name: "template.json",
            },
            cfn_guard::ValidateInput {
                content: &rules.text,
                file_name: &rules.name,
            },
            true,
        )
        .unwrap_or_else(|error| panic!("{}: {error}", rules.name));
        let record: Value = serde_json::from_str(&record)
            .unwrap_or_else(|error| panic!("{}: {error} in the record", rules.name));
        for child in record["children"].as_array().into_iter().flatten() {
            let check = &child["container"]["RuleCheck"];
            let name = check["name"].as_str().unwrap_or_default().to_owned();
            match check["status"].as_str() {
                Some("FAIL") => outcome.failed.push(name),
                Some("PASS") => outcome.passed.push(name),
                Some("SKIP") => outcome.skipped.push(name),
                _ => {}
            }
        }
    }
    outcome
}

#[test]
fn rules_hold_for_every_environment() {
    for environment in environments() {
        let outcome = check(&json(&environment));
        assert!(outcome.failed.is_empty(), "{environment}: {outcome:?}");
        if environment == "prod" {
            assert!(
                outcome.skipped.is_empty(),
                "every rule applies to prod: {outcome:?}"
            );
        }
    }
}

/// A prod template broken in one way, and the rule that must catch it.
struct Breakage {
    rule: &'static str,
    what: &'static str,
    apply: fn(&mut Value),
}

fn statement(template: &mut Value, index: usize) -> &mut Value {
    &mut template["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        [index]
}

fn stage(template: &mut Value) -> &mut Value {
    &mut template["Resources"]["ApiStage"]["Properties"]
}

fn remove(template: &mut Value, logical_id: &str) {
    remove_key(&mut template["Resources"], logical_id);
}

fn remove_key(value: &mut Value, key: &str) {
    assert!(
        value.as_object_mut().unwrap().remove(key).is_some(),
        "{key} is not there to remove"
    );
}

const ALLOW_ORIGIN: &str = "gatewayresponse.header.Access-Control-Allow-Origin";

const BREAKAGES: &[Breakage] = &[
    Breakage {
        rule: "iam_no_wildcards",
        what: "a service-wide action",
        apply: |t| {
            statement(t, 0)["Action"]
                .as_array_mut()
                .unwrap()
                .push(json!("dynamodb:*"))
        },
    },
    Breakage {
        rule: "iam_no_wildcards",
        what: "every action, as a string",
        apply: |t| statement(t, 0)["Action"] = json!("*"),
    },
    Breakage {
        rule: "iam_no_wildcards",
        what: "every resource",
        apply: |t| statement(t, 1)["Resource"] = json!(["*"]),
    },
    Breakage {
        rule: "iam_no_wildcards",
        what: "every log group's streams",
        apply: |t| {
            statement(t, 2)["Resource"] = json!([{"Fn::Sub":
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*:log-stream:*"}])
        },
    },
    Breakage {
        rule: "api_methods_require_cognito",
        what: "a GET open to anyone",
        apply: |t| {
            let method = &mut t["Resources"]["ApiV1TicketsGet"]["Properties"];
            method["AuthorizationType"] = json!("NONE");
            method.as_object_mut().unwrap().remove("AuthorizerId");
        },
    },
    Breakage {
        rule: "api_methods_require_cognito",
        what: "a DELETE with IAM instead of Cognito",
        apply: |t| {
            t["Resources"]["ApiV1TicketsByIdDelete"]["Properties"]["AuthorizationType"] =
                json!("AWS_IAM")
        },
    },
    Breakage {
        rule: "cors_no_wildcard_origin_in_prod",
        what: "the function allowing any origin",
        apply: |t| {
            t["Resources"]["Function"]["Properties"]["Environment"]["Variables"]["ALLOWED_ORIGINS"] =
                json!("https://app.example.com,*")
        },
    },
    Breakage {
        rule: "cors_no_wildcard_origin_in_prod",
        what: "gateway errors allowing any origin",
        apply: |t| {
            t["Resources"]["GatewayResponseDefault4xx"]["Properties"]["ResponseParameters"]
                [ALLOW_ORIGIN] = json!("'*'")
        },
    },
    Breakage {
        rule: "cors_no_wildcard_origin_in_prod",
        what: "gateway errors echoing the caller's origin",
        apply: |t| {
            t["Resources"]["GatewayResponseDefault5xx"]["Properties"]["ResponseParameters"]
                [ALLOW_ORIGIN] = json!("method.request.header.Origin")
        },
    },
    Breakage {
        rule: "table_protected_in_prod",
        what: "a table deleted with the stack",
        apply: |t| t["Resources"]["TicketsTable"]["DeletionPolicy"] = json!("Delete"),
    },
    Breakage {
        rule: "table_protected_in_prod",
        what: "a table a failed first creation strands (Retain)",
        apply: |t| t["Resources"]["TicketsTable"]["DeletionPolicy"] = json!("Retain"),
    },
    Breakage {
        rule: "table_protected_in_prod",
        what: "a table deleted on replacement",
        apply: |t| {
            t["Resources"]["TicketsTable"]
                .as_object_mut()
                .unwrap()
                .remove("UpdateReplacePolicy");
        },
    },
    Breakage {
        rule: "table_protected_in_prod",
        what: "a table without point-in-time recovery",
        apply: |t| {
            t["Resources"]["TicketsTable"]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] =
                json!(false)
        },
    },
    Breakage {
        rule: "iam_no_wildcards",
        what: "another action slipped into X-Ray's statement on `*`",
        apply: |t| {
            statement(t, 3)["Action"]
                .as_array_mut()
                .unwrap()
                .push(json!("dynamodb:Scan"))
        },
    },
    Breakage {
        rule: "iam_no_wildcards",
        what: "every X-Ray action",
        apply: |t| statement(t, 3)["Action"] = json!(["xray:*"]),
    },
    Breakage {
        rule: "iam_no_wildcards",
        what: "CodeDeploy watching every alarm",
        apply: |t| {
            t["Resources"]["DeploymentRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
                [2]["Resource"] = json!(["*"])
        },
    },
    Breakage {
        rule: "access_logs_in_prod",
        what: "a stage without access logs",
        apply: |t| {
            stage(t).as_object_mut().unwrap().remove("AccessLogSetting");
        },
    },
    Breakage {
        rule: "access_logs_in_prod",
        what: "access logs without the caller",
        apply: |t| {
            let format = &mut stage(t)["AccessLogSetting"]["Format"];
            let text = format.as_str().unwrap().replace("\"sub\":", "\"user\":");
            *format = json!(text);
        },
    },
    Breakage {
        rule: "tracing_in_prod",
        what: "a stage without tracing",
        apply: |t| stage(t)["TracingEnabled"] = json!(false),
    },
    Breakage {
        rule: "tracing_in_prod",
        what: "a function without tracing",
        apply: |t| {
            t["Resources"]["Function"]["Properties"]
                .as_object_mut()
                .unwrap()
                .remove("TracingConfig");
        },
    },
    Breakage {
        rule: "alarms_for_every_route",
        what: "a route without its latency alarm",
        apply: |t| remove(t, "AlarmGetV1TicketsByIdP99"),
    },
    Breakage {
        rule: "alarms_for_every_route",
        what: "a route without its 5xx alarm",
        apply: |t| remove(t, "AlarmPatchV1TicketsById5xxRate"),
    },
    Breakage {
        rule: "alarms_for_every_route",
        what: "a method that does not say which operation it serves",
        apply: |t| remove_key(&mut t["Resources"]["ApiV1TicketsPost"], "Metadata"),
    },
    Breakage {
        rule: "alarms_notify",
        what: "an alarm that tells nobody it recovered",
        apply: |t| {
            remove_key(
                &mut t["Resources"]["AlarmFunctionErrors"]["Properties"],
                "OKActions",
            )
        },
    },
    Breakage {
        rule: "alarms_notify",
        what: "an alarm that tells nobody",
        apply: |t| t["Resources"]["AlarmApiP99"]["Properties"]["AlarmActions"] = json!([]),
    },
    Breakage {
        rule: "waf_in_prod",
        what: "a web ACL attached to nothing",
        apply: |t| remove(t, "WebAclAssociation"),
    },
    Breakage {
        rule: "waf_in_prod",
        what: "a managed rule group that only counts",
        apply: |t| {
            t["Resources"]["WebAcl"]["Properties"]["Rules"][3]["OverrideAction"] =
                json!({"Count": {}})
        },
    },
    Breakage {
        rule: "waf_in_prod",
        what: "no rate limit per IP",
        apply: |t| {
            t["Resources"]["WebAcl"]["Properties"]["Rules"]
                .as_array_mut()
                .unwrap()
                .remove(0);
        },
    },
    Breakage {
        rule: "gradual_rollout_in_prod",
        what: "an alias moved without CodeDeploy",
        apply: |t| remove_key(&mut t["Resources"]["FunctionAliasLive"], "UpdatePolicy"),
    },
    Breakage {
        rule: "gradual_rollout_in_prod",
        what: "deployments not rolled back on alarms",
        apply: |t| {
            t["Resources"]["DeploymentGroup"]["Properties"]["AutoRollbackConfiguration"]["Events"] =
                json!(["DEPLOYMENT_FAILURE"])
        },
    },
    Breakage {
        rule: "gradual_rollout_in_prod",
        what: "replaced versions deleted",
        apply: |t| t["Resources"]["FunctionVersion"]["UpdateReplacePolicy"] = json!("Delete"),
    },
    Breakage {
        rule: "gradual_rollout_in_prod",
        what: "a deployment group that ignores its alarms",
        apply: |t| {
            t["Resources"]["DeploymentGroup"]["Properties"]["AlarmConfiguration"]["Enabled"] =
                json!(false)
        },
    },
    Breakage {
        rule: "rollback_triggers_in_prod",
        what: "alarms ignored unless a deploy turns them on",
        apply: |t| t["Parameters"]["RollbackOnAlarms"]["Default"] = json!("false"),
    },
    Breakage {
        rule: "rollback_triggers_in_prod",
        what: "no composite alarm for CloudFormation's rollback triggers",
        apply: |t| {
            remove(t, "AlarmRollbackTrigger");
            remove_key(&mut t["Outputs"], "RollbackTriggerArn");
        },
    },
    Breakage {
        rule: "kms_keys_rotate_and_are_least_privilege",
        what: "a key never rotated",
        apply: |t| t["Resources"]["DataKey"]["Properties"]["EnableKeyRotation"] = json!(false),
    },
    Breakage {
        rule: "kms_keys_rotate_and_are_least_privilege",
        what: "a key policy granting every KMS action to every principal",
        apply: |t| {
            t["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"][1] = json!({
                "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:*"], "Resource": "*"
            })
        },
    },
    Breakage {
        rule: "cors_no_wildcard_origin_in_prod",
        what: "no function reading ALLOWED_ORIGINS at all",
        apply: |t| {
            remove_key(
                &mut t["Resources"]["Function"]["Properties"]["Environment"]["Variables"],
                "ALLOWED_ORIGINS",
            )
        },
    },
    Breakage {
        rule: "events_least_privilege",
        what: "the pipe reading the table's items",
        apply: |t| {
            pipe_statement(t, 0)["Action"]
                .as_array_mut()
                .unwrap()
                .push(json!("dynamodb:GetItem"))
        },
    },
    Breakage {
        rule: "events_least_privilege",
        what: "the pipe reading every stream",
        apply: |t| pipe_statement(t, 0)["Resource"] = json!([{"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/x/stream/y"}]),
    },
    Breakage {
        rule: "events_least_privilege",
        what: "the pipe putting events on the default bus",
        apply: |t| pipe_statement(t, 2)["Resource"] = json!([{"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"}]),
    },
    Breakage {
        rule: "events_least_privilege",
        what: "a pipe sending idempotency records too",
        apply: |t| {
            t["Resources"]["EventsPipe"]["Properties"]["SourceParameters"]["FilterCriteria"]["Filters"] =
                json!([])
        },
    },
    Breakage {
        rule: "events_least_privilege",
        what: "a pipe retrying forever",
        apply: |t| {
            t["Resources"]["EventsPipe"]["Properties"]["SourceParameters"]["DynamoDBStreamParameters"]
                ["MaximumRetryAttempts"] = json!(-1)
        },
    },
    Breakage {
        rule: "event_rules_dead_letter",
        what: "notifications dropped when the topic refuses them",
        apply: |t| {
            remove_key(
                &mut t["Resources"]["NotificationRule"]["Properties"]["Targets"][0],
                "DeadLetterConfig",
            )
        },
    },
];

fn pipe_statement(template: &mut Value, index: usize) -> &mut Value {
    &mut template["Resources"]["EventsPipeRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        [index]
}

#[test]
fn each_rule_catches_the_template_that_breaks_it() {
    let prod = json("prod");
    for breakage in BREAKAGES {
        let mut broken = prod.clone();
        (breakage.apply)(&mut broken);
        assert_ne!(broken, prod, "{} changed nothing", breakage.what);
        let outcome = check(&broken);
        assert_eq!(
            outcome.failed,
            vec![breakage.rule.to_owned()],
            "{}: expected only {} to fail: {outcome:?}",
            breakage.what,
            breakage.rule
        );
    }
}

#[test]
fn every_rule_has_a_template_that_breaks_it() {
    for rule in check(&json("prod")).passed {
        assert!(
            BREAKAGES.iter().any(|b| b.rule == rule),
            "no broken template shows that {rule} can fail"
        );
    }
}
