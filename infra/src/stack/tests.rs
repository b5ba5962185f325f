//! Unit tests of the whole stack.
//! (Over 500 lines: unit tests of the whole stack, one per property of the rendered template.)

use super::*;
use crate::environment::{Origin, Positive};
use serde_json::{Value, json};
use std::path::Path;
use tickets_manifest::dynamodb::{Target, iam_actions};

fn environment(name: &str) -> Environment {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    Environment::load(root, name).unwrap()
}

fn json_of(template: &Template) -> Value {
    serde_json::from_str(&template.to_json()).unwrap()
}

fn deployment_id(template: &Template) -> String {
    template
        .resources()
        .find(|(_, entry)| entry.type_name() == "AWS::ApiGateway::Deployment")
        .map(|(id, _)| id.to_owned())
        .unwrap()
}

#[test]
fn renders_the_same_bytes_twice() {
    let dev = environment("dev");
    assert_eq!(ticket_stack(&dev).to_json(), ticket_stack(&dev).to_json());
    assert_eq!(ticket_stack(&dev).to_yaml(), ticket_stack(&dev).to_yaml());
}

#[test]
fn every_physical_name_derives_from_the_stack_name() {
    let template = json_of(&ticket_stack(&environment("dev")));
    let names = [
        ("TicketsTable", "TableName"),
        ("FunctionLogGroup", "LogGroupName"),
        ("Function", "FunctionName"),
        ("RestApi", "Name"),
        ("UserPool", "UserPoolName"),
        ("UserPoolClient", "ClientName"),
    ];
    for (resource, property) in names {
        let name = template["Resources"][resource]["Properties"][property]["Fn::Sub"]
            .as_str()
            .unwrap_or_default();
        assert!(
            name.contains("${AWS::StackName}"),
            "{resource}.{property}: {name:?}"
        );
    }
    assert!(
        template["Resources"]["FunctionRole"]["Properties"]
            .get("RoleName")
            .is_none()
    );
}

#[test]
fn grants_exactly_the_manifest_actions_on_the_table_and_its_indexes() {
    let template = json_of(&ticket_stack(&environment("dev")));
    let statements = &template["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"];
    assert_eq!(statements[0]["Action"], json!(iam_actions(Target::Table)));
    assert_eq!(
        statements[0]["Resource"],
        json!([{"Fn::GetAtt": ["TicketsTable", "Arn"]}])
    );
    assert_eq!(statements[1]["Action"], json!(iam_actions(Target::Indexes)));
    assert_eq!(
        statements[1]["Resource"],
        json!([
            {"Fn::Sub": "${TicketsTable.Arn}/index/byCreated"},
            {"Fn::Sub": "${TicketsTable.Arn}/index/byStatus"}
        ])
    );
    // Tracing is on in dev: X-Ray's two actions, which have no resource-level permissions.
    assert_eq!(
        statements[3],
        json!({
            "Sid": "Traces",
            "Effect": "Allow",
            "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            "Resource": ["*"]
        })
    );
    assert_eq!(statements.as_array().unwrap().len(), 4);
    let local = json_of(&ticket_stack(&environment("local")));
    let statements = &local["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"];
    assert_eq!(
        statements.as_array().unwrap().len(),
        3,
        "no tracing in local"
    );
}

#[test]
fn protects_prod_data_and_not_dev_data() {
    let prod = json_of(&ticket_stack(&environment("prod")));
    let table = &prod["Resources"]["TicketsTable"];
    // Kept once created; a failed first creation deletes it rather than strand it.
    assert_eq!(table["DeletionPolicy"], "RetainExceptOnCreate");
    assert_eq!(table["UpdateReplacePolicy"], "Retain");
    assert_eq!(table["Properties"]["DeletionProtectionEnabled"], true);
    let pool = &prod["Resources"]["UserPool"];
    assert_eq!(pool["DeletionPolicy"], "RetainExceptOnCreate");
    assert_eq!(pool["Properties"]["DeletionProtection"], "ACTIVE");
    let dev = json_of(&ticket_stack(&environment("dev")));
    assert_eq!(dev["Resources"]["TicketsTable"]["DeletionPolicy"], "Delete");
    assert_eq!(
        dev["Resources"]["UserPool"]["Properties"]["DeletionProtection"],
        "INACTIVE"
    );
}

#[test]
fn the_first_creation_protects_nothing_from_deletion_and_differs_in_nothing_else() {
    let prod = environment("prod");
    let mut first = json_of(&first_creation(&prod));
    let steady = json_of(&ticket_stack(&prod));
    let resources = &mut first["Resources"];
    assert_eq!(
        resources["TicketsTable"]["Properties"]["DeletionProtectionEnabled"],
        false
    );
    assert_eq!(
        resources["UserPool"]["Properties"]["DeletionProtection"],
        "INACTIVE"
    );
    resources["TicketsTable"]["Properties"]["DeletionProtectionEnabled"] = json!(true);
    resources["UserPool"]["Properties"]["DeletionProtection"] = json!("ACTIVE");
    assert_eq!(first, steady);
    let dev = environment("dev");
    assert_eq!(first_creation(&dev).to_json(), ticket_stack(&dev).to_json());
}

#[test]
fn gateway_errors_allow_the_first_origin_unless_any_origin_is_allowed() {
    let origin = |template: &Value| {
        template["Resources"]["GatewayResponseDefault4xx"]["Properties"]["ResponseParameters"]
            ["gatewayresponse.header.Access-Control-Allow-Origin"]
            .clone()
    };
    assert_eq!(origin(&json_of(&ticket_stack(&environment("dev")))), "'*'");
    assert_eq!(
        origin(&json_of(&ticket_stack(&environment("prod")))),
        "'https://app.example.com'"
    );
}

#[test]
fn deployment_id_follows_the_api_shape_only() {
    let dev = environment("dev");
    let base = deployment_id(&ticket_stack(&dev));
    assert!(base.starts_with(api::DEPLOYMENT_PREFIX));

    let mut throttled = dev.clone();
    throttled.api_throttling.rate_limit = Positive::try_from(1).unwrap();
    throttled.lambda.memory_mb = 512.try_into().unwrap();
    assert_eq!(deployment_id(&ticket_stack(&throttled)), base);

    let mut one_origin = dev.clone();
    one_origin.allowed_origins = vec![Origin::Exact("https://a.example.com".into())];
    assert_ne!(deployment_id(&ticket_stack(&one_origin)), base);
}

#[test]
fn a_resource_the_stage_serves_replaced_under_its_logical_id_takes_a_new_deployment() {
    for name in ["dev", "prod"] {
        let template = json_of(&ticket_stack(&environment(name)));
        let resources = |t: &Value| t["Resources"].as_object().unwrap().clone();
        let digest = deployment_fingerprint(&resources(&template));
        // The template's own id is the digest of its JSON form.
        assert_eq!(
            deployment_id(&ticket_stack(&environment(name))),
            format!("{}{digest}", api::DEPLOYMENT_PREFIX)
        );
        // A new role (new ARN behind the methods' unchanged `Fn::GetAtt`) or a renamed
        // function: the stage must be redeployed.
        let mut role = template.clone();
        role["Resources"][rollout::INVOKE_ROLE]["Properties"]["Path"] = json!("/tickets/");
        assert_ne!(deployment_fingerprint(&resources(&role)), digest, "{name}");
        let mut function = template.clone();
        function["Resources"]["Function"]["Properties"]["FunctionName"] = json!("renamed");
        assert_ne!(
            deployment_fingerprint(&resources(&function)),
            digest,
            "{name}"
        );
        // Updates in place keep every ARN: no new deployment.
        let mut memory = template.clone();
        memory["Resources"]["Function"]["Properties"]["MemorySize"] = json!(1024);
        memory["Resources"]["UserPool"]["Properties"]["MfaConfiguration"] = json!("OFF");
        assert_eq!(
            deployment_fingerprint(&resources(&memory)),
            digest,
            "{name}"
        );
    }
}

#[test]
fn restamping_renames_the_deployment_and_the_stage_follows() {
    let mut template = json_of(&ticket_stack(&environment("dev")));
    assert_eq!(restamp_deployment(&mut template.clone()), None);
    template["Resources"][rollout::INVOKE_ROLE]["Properties"]["Path"] = json!("/tickets/");
    let (old, new) = restamp_deployment(&mut template).expect("a new id");
    assert_ne!(old, new);
    let resources = template["Resources"].as_object().unwrap();
    assert!(!resources.contains_key(&old));
    assert_eq!(
        resources[api::STAGE]["Properties"]["DeploymentId"],
        json!({"Ref": new})
    );
    assert!(
        resources[&new]["Properties"]["Description"]
            .as_str()
            .unwrap()
            .contains(new.trim_start_matches(api::DEPLOYMENT_PREFIX))
    );
    assert!(!template.to_string().contains(&old));
    assert_eq!(restamp_deployment(&mut template), None);
}

fn version_description(template: &Template) -> Value {
    json_of(template)["Resources"][rollout::VERSION]["Properties"]["Description"].clone()
}

#[test]
fn a_version_is_published_for_code_or_configuration_changes_only() {
    let prod = environment("prod");
    let base = version_description(&ticket_stack(&prod));
    let text = base["Fn::Sub"].as_str().unwrap();
    assert!(
        text.starts_with("Code ${ArtifactKey}, configuration "),
        "{text}"
    );

    let mut bigger = prod.clone();
    bigger.lambda.memory_mb = 512.try_into().unwrap();
    assert_ne!(version_description(&ticket_stack(&bigger)), base);

    let mut quieter = prod.clone();
    quieter.alarms.lambda_errors = 9.try_into().unwrap();
    quieter.edge.waf.rate_limit_per_5_minutes = 50.try_into().unwrap();
    quieter.api_throttling.rate_limit = Positive::try_from(1).unwrap();
    assert_eq!(version_description(&ticket_stack(&quieter)), base);

    let resources = &json_of(&ticket_stack(&prod))["Resources"];
    assert_eq!(resources[rollout::VERSION]["DeletionPolicy"], "Retain");
    assert_eq!(resources[rollout::VERSION]["UpdateReplacePolicy"], "Retain");
}

#[test]
fn api_gateway_invokes_the_alias_and_only_it_may() {
    let template = json_of(&ticket_stack(&environment("prod")));
    let resources = &template["Resources"];
    let alias = &resources[rollout::ALIAS];
    assert_eq!(alias["Properties"]["Name"], "live");
    assert_eq!(
        alias["Properties"]["FunctionVersion"],
        json!({"Fn::GetAtt": [rollout::VERSION, "Version"]})
    );
    assert_eq!(
        alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"],
        json!({"Ref": rollout::DEPLOYMENT_GROUP})
    );
    let alias_arn = json!({"Fn::Sub": "${Function.Arn}:live"});
    let invoke = &resources[rollout::INVOKE_ROLE]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    assert_eq!(invoke[0]["Action"], json!(["lambda:InvokeFunction"]));
    assert_eq!(invoke[0]["Resource"], json!([alias_arn]));
    assert_eq!(invoke.as_array().unwrap().len(), 1);
    let integration = &resources["ApiV1TicketsGet"]["Properties"]["Integration"];
    assert_eq!(
        integration["Uri"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Function.Arn}:live/invocations"})
    );
    assert_eq!(
        integration["Credentials"],
        json!({"Fn::GetAtt": [rollout::INVOKE_ROLE, "Arn"]})
    );
    let permissions = resources
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::Permission")
        .count();
    assert_eq!(
        permissions, 0,
        "nothing but the role may invoke the function"
    );
    let parameter = &template["Parameters"][parameter::DEPLOYMENT_CONFIG];
    assert_eq!(
        parameter["Default"],
        "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    );
    assert!(
        parameter["AllowedValues"]
            .as_array()
            .unwrap()
            .contains(&json!("CodeDeployDefault.LambdaAllAtOnce"))
    );
    assert_eq!(
        resources[rollout::DEPLOYMENT_GROUP]["Properties"]["DeploymentConfigName"],
        json!({"Ref": parameter::DEPLOYMENT_CONFIG})
    );
}

#[test]
fn without_an_alias_api_gateway_invokes_the_function() {
    let template = json_of(&ticket_stack(&environment("local")));
    let resources = template["Resources"].as_object().unwrap();
    for absent in [
        rollout::VERSION,
        rollout::ALIAS,
        rollout::DEPLOYMENT_GROUP,
        rollout::APPLICATION,
    ] {
        assert!(!resources.contains_key(absent), "{absent} in local");
    }
    assert!(
        template
            .get("Parameters")
            .unwrap()
            .get(parameter::DEPLOYMENT_CONFIG)
            .is_none()
    );
    assert_eq!(
        resources[rollout::INVOKE_ROLE]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            [0]["Resource"],
        json!([{"Fn::GetAtt": ["Function", "Arn"]}])
    );
}

#[test]
fn every_route_but_preflight_has_its_alarms_and_gradual_rollouts_roll_back_on_them() {
    let prod = environment("prod");
    let template = json_of(&ticket_stack(&prod));
    let resources = &template["Resources"];
    let mut expected = 0;
    for (method, path) in tickets_manifest::routes::operations() {
        let id = api::operation_id(method, path);
        let present = |suffix: &str| resources.get(format!("Alarm{id}{suffix}")).is_some();
        let routed = method != tickets_manifest::routes::Method::Options;
        assert_eq!(present("5xxRate"), routed, "{id}");
        assert_eq!(present("P99"), routed, "{id}");
        expected += usize::from(routed);
    }
    assert!(expected > 0);
    let watched =
        resources[rollout::DEPLOYMENT_GROUP]["Properties"]["AlarmConfiguration"]["Alarms"]
            .as_array()
            .unwrap()
            .len();
    assert_eq!(
        watched,
        expected + 3,
        "per-route 5xx, API 5xx and p99, function errors"
    );
    assert!(watched <= MAX_ROLLBACK_ALARMS);
    for operation in tickets_manifest::dynamodb::OPERATIONS {
        let id = format!("AlarmTable{}SystemErrors", operation.api_name);
        assert!(resources.get(&id).is_some(), "{id}");
    }
}

#[test]
fn cloudformation_rolls_gradual_updates_back_on_a_composite_of_every_rollback_alarm() {
    for name in ["staging", "prod"] {
        let template = json_of(&ticket_stack(&environment(name)));
        let resources = &template["Resources"];
        let watched =
            resources[rollout::DEPLOYMENT_GROUP]["Properties"]["AlarmConfiguration"]["Alarms"]
                .as_array()
                .unwrap()
                .clone();
        let trigger = &resources[monitoring::ROLLBACK_TRIGGER]["Properties"];
        let rule = trigger["AlarmRule"]["Fn::Join"].clone();
        assert_eq!(rule[0], " OR ", "{name}");
        let alarms: Vec<Value> = rule[1].as_array().unwrap().clone();
        let expected: Vec<Value> = watched
            .iter()
            .map(|a| json!({"Fn::Sub": format!("ALARM(\"${{{}}}\")", a["Name"]["Ref"].as_str().unwrap())}))
            .collect();
        assert_eq!(
            alarms, expected,
            "{name}: the trigger covers every rollback alarm"
        );
        assert_eq!(
            trigger["ActionsEnabled"], false,
            "{name}: the alarms notify already"
        );
        assert!(
            template["Outputs"]
                .get(output::ROLLBACK_TRIGGER_ARN)
                .is_some()
        );
        assert_eq!(
            resources[rollout::DEPLOYMENT_GROUP]["Properties"]["AlarmConfiguration"]["Enabled"],
            json!({"Ref": parameter::ROLLBACK_ON_ALARMS})
        );
        assert_eq!(
            template["Parameters"][parameter::ROLLBACK_ON_ALARMS]["Default"],
            "true"
        );
    }
    for name in ["local", "dev"] {
        let template = json_of(&ticket_stack(&environment(name)));
        assert!(
            template["Resources"]
                .get(monitoring::ROLLBACK_TRIGGER)
                .is_none()
        );
        assert!(
            template["Outputs"]
                .get(output::ROLLBACK_TRIGGER_ARN)
                .is_none()
        );
    }
}

#[test]
fn every_alarm_notifies_the_topic_and_its_email_subscribers() {
    let template = json_of(&ticket_stack(&environment("prod")));
    let resources = template["Resources"].as_object().unwrap();
    let topic = json!([{"Ref": "AlertTopic"}]);
    let alarms: Vec<_> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    assert!(alarms.len() > 20);
    for alarm in alarms {
        assert_eq!(alarm["Properties"]["AlarmActions"], topic);
        assert_eq!(alarm["Properties"]["OKActions"], topic);
        assert!(
            alarm["Properties"].get("AlarmName").is_none(),
            "generated names only"
        );
    }
    let subscriptions: Vec<_> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::SNS::Subscription")
        .map(|r| r["Properties"]["Endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(subscriptions, vec!["ops@example.com"]);
}

#[test]
fn the_customer_managed_key_encrypts_the_table_and_the_logs_when_asked() {
    let prod = json_of(&ticket_stack(&environment("prod")));
    let key_arn = json!({"Fn::GetAtt": [encryption::KEY, "Arn"]});
    let resources = &prod["Resources"];
    assert_eq!(
        resources[encryption::KEY]["Properties"]["EnableKeyRotation"],
        true
    );
    assert_eq!(
        resources["TicketsTable"]["Properties"]["SSESpecification"]["KMSMasterKeyId"],
        key_arn
    );
    for group in [function::LOG_GROUP, access_logs::ACCESS_LOG_GROUP] {
        assert_eq!(
            resources[group]["Properties"]["KmsKeyId"], key_arn,
            "{group}"
        );
    }
    let dev = json_of(&ticket_stack(&environment("dev")));
    assert!(dev["Resources"].get(encryption::KEY).is_none());
    assert_eq!(
        dev["Resources"]["TicketsTable"]["Properties"]["SSESpecification"],
        json!({"SSEEnabled": true})
    );
}

#[test]
fn the_web_acl_guards_the_stage_where_enabled() {
    let prod = json_of(&ticket_stack(&environment("prod")));
    let acl = &prod["Resources"][edge::WEB_ACL]["Properties"];
    assert_eq!(acl["DefaultAction"], json!({"Allow": {}}));
    let rules = acl["Rules"].as_array().unwrap();
    assert_eq!(rules[0]["Action"], json!({"Block": {}}));
    assert_eq!(
        rules[0]["Statement"]["RateBasedStatement"]["Limit"],
        json!(1000)
    );
    assert_eq!(rules.len(), 1 + edge::MANAGED_RULE_GROUPS.len());
    assert_eq!(
        prod["Resources"][edge::WEB_ACL_ASSOCIATION]["Properties"]["ResourceArn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestApi}/stages/${ApiStage}"})
    );
    let dev = json_of(&ticket_stack(&environment("dev")));
    assert!(dev["Resources"].get(edge::WEB_ACL).is_none());
}

#[test]
fn the_event_path_is_least_privilege() {
    for name in ["dev", "prod"] {
        let template = json_of(&ticket_stack(&environment(name)));
        let statements = |role: &str| {
            template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
                .as_array()
                .unwrap()
                .clone()
        };
        // The enrichment writes its logs (and traces), and touches no table.
        for statement in statements("EventsFunctionRole") {
            for action in statement["Action"].as_array().unwrap() {
                let action = action.as_str().unwrap();
                assert!(
                    action.starts_with("logs:") || action.starts_with("xray:"),
                    "{name}: the enrichment may {action}"
                );
            }
        }
        let pipe = statements("EventsPipeRole");
        assert_eq!(
            pipe[0]["Resource"],
            json!([{"Fn::GetAtt": ["TicketsTable", "StreamArn"]}])
        );
        assert_eq!(pipe[1]["Action"], json!(["lambda:InvokeFunction"]));
        assert_eq!(
            pipe[1]["Resource"],
            json!([{"Fn::GetAtt": ["EventsFunction", "Arn"]}])
        );
        assert_eq!(pipe[2]["Action"], json!(["events:PutEvents"]));
        assert_eq!(
            pipe[2]["Resource"],
            json!([{"Fn::GetAtt": ["EventBus", "Arn"]}])
        );
        assert_eq!(
            pipe[3]["Resource"],
            json!([{"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}])
        );
        assert_eq!(pipe.len(), if name == "prod" { 5 } else { 4 });
    }
}

#[test]
fn the_pipe_keeps_ticket_items_in_order_and_the_bus_archives_them() {
    let prod = environment("prod");
    let template = json_of(&ticket_stack(&prod));
    let table = &template["Resources"]["TicketsTable"]["Properties"];
    assert_eq!(
        table["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES"
    );
    let pipe = &template["Resources"]["EventsPipe"]["Properties"];
    let stream = &pipe["SourceParameters"]["DynamoDBStreamParameters"];
    assert_eq!(stream["ParallelizationFactor"], 1, "order per ticket");
    assert_eq!(stream["OnPartialBatchItemFailure"], "AUTOMATIC_BISECT");
    assert_eq!(
        stream["MaximumRetryAttempts"],
        json!(prod.events.retry_attempts.get())
    );
    let filters: Vec<Value> = pipe["SourceParameters"]["FilterCriteria"]["Filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(filters.len(), 2);
    for filter in &filters {
        assert_eq!(
            filter["dynamodb"]["Keys"]["pk"]["S"],
            json!([{"prefix": "TICKET#"}])
        );
    }
    let target = &pipe["TargetParameters"]["EventBridgeEventBusParameters"];
    assert_eq!(target["DetailType"], "$.type");
    assert_eq!(
        target["Source"],
        json!({"Fn::Sub": "tickets.${AWS::StackName}"})
    );
    assert_eq!(
        template["Resources"]["EventArchive"]["Properties"]["RetentionDays"],
        json!(prod.events.archive_retention_days.get())
    );
    for alarm in ["AlarmEventsDeadLetters", "AlarmEventsPipeFailures"] {
        assert!(template["Resources"].get(alarm).is_some(), "{alarm}");
    }
}
