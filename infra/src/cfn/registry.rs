//! Every resource type the model knows, kept apart from the types themselves (as
//! goformation's generated `all.go` is), so that no type module depends on the list.

use super::resource::{ResourceInfo, ResourceType};
use super::{
    apigateway, cloudwatch, codedeploy, cognito, dynamodb, events, iam, kms, lambda, logs, pipes,
    sns, sqs, wafv2,
};
use serde::Serialize;

/// Looks up what is known about a resource type by its CloudFormation name.
pub fn resource_info(type_name: &str) -> Option<ResourceInfo> {
    RESOURCE_TYPES
        .iter()
        .find(|info| info.type_name == type_name)
        .copied()
}

macro_rules! resource_types {
    ($($(#[$doc:meta])* $variant:ident($ty:ty)),+ $(,)?) => {
        /// The properties of a resource of any type this model knows.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum Properties {
            $($(#[$doc])* $variant($ty),)+
        }

        $(impl From<$ty> for Properties {
            fn from(properties: $ty) -> Self {
                Properties::$variant(properties)
            }
        })+

        /// Every resource type the model knows.
        pub const RESOURCE_TYPES: &[ResourceInfo] = &[$(<$ty as ResourceType>::INFO,)+];
    };
}

resource_types! {
    /// `AWS::ApiGateway::Authorizer`
    ApiGatewayAuthorizer(apigateway::Authorizer),
    /// `AWS::ApiGateway::Deployment`
    ApiGatewayDeployment(apigateway::Deployment),
    /// `AWS::ApiGateway::GatewayResponse`
    ApiGatewayGatewayResponse(apigateway::GatewayResponse),
    /// `AWS::ApiGateway::Method`
    ApiGatewayMethod(apigateway::Method),
    /// `AWS::ApiGateway::Resource`
    ApiGatewayResource(apigateway::Resource),
    /// `AWS::ApiGateway::RestApi`
    ApiGatewayRestApi(apigateway::RestApi),
    /// `AWS::ApiGateway::Stage`
    ApiGatewayStage(apigateway::Stage),
    /// `AWS::CloudWatch::Alarm`
    CloudWatchAlarm(cloudwatch::Alarm),
    /// `AWS::CloudWatch::CompositeAlarm`
    CloudWatchCompositeAlarm(cloudwatch::CompositeAlarm),
    /// `AWS::CloudWatch::Dashboard`
    CloudWatchDashboard(cloudwatch::Dashboard),
    /// `AWS::CodeDeploy::Application`
    CodeDeployApplication(codedeploy::Application),
    /// `AWS::CodeDeploy::DeploymentGroup`
    CodeDeployDeploymentGroup(codedeploy::DeploymentGroup),
    /// `AWS::Cognito::UserPool`
    CognitoUserPool(cognito::UserPool),
    /// `AWS::Cognito::UserPoolClient`
    CognitoUserPoolClient(cognito::UserPoolClient),
    /// `AWS::Cognito::UserPoolGroup`
    CognitoUserPoolGroup(cognito::UserPoolGroup),
    /// `AWS::DynamoDB::Table`
    DynamoDbTable(dynamodb::Table),
    /// `AWS::Events::Archive`
    EventsArchive(events::Archive),
    /// `AWS::Events::EventBus`
    EventsEventBus(events::EventBus),
    /// `AWS::Events::Rule`
    EventsRule(events::Rule),
    /// `AWS::IAM::Role`
    IamRole(iam::Role),
    /// `AWS::KMS::Key`
    KmsKey(kms::Key),
    /// `AWS::Lambda::Alias`
    LambdaAlias(lambda::Alias),
    /// `AWS::Lambda::Function`
    LambdaFunction(lambda::Function),
    /// `AWS::Lambda::Permission`
    LambdaPermission(lambda::Permission),
    /// `AWS::Lambda::Version`
    LambdaVersion(lambda::Version),
    /// `AWS::Logs::LogGroup`
    LogsLogGroup(logs::LogGroup),
    /// `AWS::Logs::MetricFilter`
    LogsMetricFilter(logs::MetricFilter),
    /// `AWS::Pipes::Pipe`
    PipesPipe(pipes::Pipe),
    /// `AWS::SNS::Subscription`
    SnsSubscription(sns::Subscription),
    /// `AWS::SNS::Topic`
    SnsTopic(sns::Topic),
    /// `AWS::SNS::TopicPolicy`
    SnsTopicPolicy(sns::TopicPolicy),
    /// `AWS::SQS::Queue`
    SqsQueue(sqs::Queue),
    /// `AWS::SQS::QueuePolicy`
    SqsQueuePolicy(sqs::QueuePolicy),
    /// `AWS::WAFv2::WebACL`
    WafV2WebAcl(wafv2::WebAcl),
    /// `AWS::WAFv2::WebACLAssociation`
    WafV2WebAclAssociation(wafv2::WebAclAssociation),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_which_types_hold_data() {
        let stateful: Vec<_> = RESOURCE_TYPES
            .iter()
            .filter(|info| info.stateful)
            .map(|info| info.type_name)
            .collect();
        assert_eq!(
            stateful,
            vec![
                "AWS::Cognito::UserPool",
                "AWS::DynamoDB::Table",
                "AWS::Events::Archive",
                "AWS::KMS::Key",
                "AWS::SQS::Queue"
            ]
        );
    }

    #[test]
    fn looks_up_replacement_rules_by_type_name() {
        let table = resource_info("AWS::DynamoDB::Table").unwrap();
        assert!(table.stateful);
        assert!(table.replaces_on("TableName"));
        assert!(table.replaces_on("KeySchema"));
        assert!(!table.replaces_on("BillingMode"));
        assert!(resource_info("AWS::S3::Bucket").is_none());
    }

    #[test]
    fn every_type_is_listed_once() {
        let mut names: Vec<_> = RESOURCE_TYPES.iter().map(|i| i.type_name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
