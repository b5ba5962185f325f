//! The ticket stack: table, function, API and user pool, derived from the function's manifest
//! and one environment's settings.

mod api;
mod auth;
mod data;
mod function;

use crate::cfn::{Expr, Output, Parameter, Pseudo, Template};
use crate::environment::Environment;

/// Names of the template's parameters: promotion changes only these.
pub mod parameter {
    /// S3 bucket holding the function's zip (in the stack's region).
    pub const ARTIFACT_BUCKET: &str = "ArtifactBucket";
    /// Key of the function's zip in that bucket.
    pub const ARTIFACT_KEY: &str = "ArtifactKey";
}

/// Names of the template's outputs.
pub mod output {
    /// Base URL of the API, stage included.
    pub const API_URL: &str = "ApiUrl";
    /// The DynamoDB table's name.
    pub const TABLE_NAME: &str = "TableName";
    /// The Lambda function's name.
    pub const FUNCTION_NAME: &str = "FunctionName";
    /// The Cognito user pool's id.
    pub const USER_POOL_ID: &str = "UserPoolId";
    /// The Cognito app client's id.
    pub const USER_POOL_CLIENT_ID: &str = "UserPoolClientId";
    /// The stack's region.
    pub const REGION: &str = "Region";
}

/// Template `Metadata` key holding the environment's name (read by the policy rules).
pub const METADATA_ENVIRONMENT: &str = "Environment";

/// The whole stack for `environment`. Physical names derive from the stack name, so one
/// template serves any number of stacks (`tickets-dev`, `tickets-dev-alice`).
pub fn ticket_stack(environment: &Environment) -> Template {
    let mut template = Template::new(format!(
        "Ticket API ({}): DynamoDB table, Lambda function, API Gateway REST API and Cognito user pool.",
        environment.name
    ));
    template.set_metadata(METADATA_ENVIRONMENT, &environment.name);

    let bucket = template.add_parameter(
        parameter::ARTIFACT_BUCKET,
        Parameter::string("S3 bucket holding the function's zip, in the stack's region.")
            .allowed_pattern(
                "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                "an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-'",
            ),
    );
    let key = template.add_parameter(
        parameter::ARTIFACT_KEY,
        Parameter::string("Key of the function's zip in the artifact bucket.")
            .allowed_pattern("^.+\\.zip$", "an S3 key ending in .zip"),
    );

    let table = data::table(&mut template, environment);
    let function = function::function(&mut template, environment, &table, &bucket, &key);
    let users = auth::user_pool(&mut template, environment);
    let api = api::rest_api(&mut template, environment, &function, &users.pool);

    let outputs = [
        (
            output::API_URL,
            "Base URL of the API, stage included.",
            api.url,
        ),
        (output::TABLE_NAME, "The DynamoDB table.", table.reference()),
        (
            output::FUNCTION_NAME,
            "The Lambda function.",
            function.reference(),
        ),
        (
            output::USER_POOL_ID,
            "The Cognito user pool.",
            users.pool.reference(),
        ),
        (
            output::USER_POOL_CLIENT_ID,
            "The Cognito app client (no secret).",
            users.client.reference(),
        ),
        (
            output::REGION,
            "The stack's region.",
            Expr::from(Pseudo::Region),
        ),
    ];
    for (name, description, value) in outputs {
        template.add_output(name, Output::new(description, value));
    }
    template
}

/// `<stack name>-<suffix>`: every physical name derives from the stack name.
fn physical_name(suffix: &str) -> Expr {
    crate::sub!(Pseudo::StackName, "-", suffix)
}

#[cfg(test)]
mod tests {
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
        assert_eq!(statements.as_array().unwrap().len(), 3);
    }

    #[test]
    fn protects_prod_data_and_not_dev_data() {
        let prod = json_of(&ticket_stack(&environment("prod")));
        let table = &prod["Resources"]["TicketsTable"];
        assert_eq!(table["DeletionPolicy"], "Retain");
        assert_eq!(table["UpdateReplacePolicy"], "Retain");
        assert_eq!(
            prod["Resources"]["UserPool"]["Properties"]["DeletionProtection"],
            "ACTIVE"
        );
        let dev = json_of(&ticket_stack(&environment("dev")));
        assert_eq!(dev["Resources"]["TicketsTable"]["DeletionPolicy"], "Delete");
        assert_eq!(
            dev["Resources"]["UserPool"]["Properties"]["DeletionProtection"],
            "INACTIVE"
        );
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
}
