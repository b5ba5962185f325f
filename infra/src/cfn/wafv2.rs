//! `AWS::WAFv2::WebACL` and `AWS::WAFv2::WebACLAssociation`, of the kinds a regional API
//! uses: rate-based rules and AWS managed rule groups.

use super::expr::Expr;
use super::resource::{Attribute, NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// `AWS::WAFv2::WebACL`; `Name` is left out (generated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WebAcl {
    /// `REGIONAL` for API Gateway.
    pub scope: Scope,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What happens to a request no rule decides.
    pub default_action: DefaultAction,
    /// The rules, by priority.
    pub rules: Vec<Rule>,
    /// Metrics and sampled requests of the ACL as a whole.
    pub visibility_config: VisibilityConfig,
}

impl ResourceType for WebAcl {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::WAFv2::WebACL",
        stateful: false,
        replaced_by: &["Name", "Scope"],
        not_updatable: &[],
    };
    type Attribute = WebAclAttribute;
}

/// Attributes of a web ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebAclAttribute {
    /// The ACL's ARN.
    Arn,
}

impl Attribute for WebAclAttribute {
    fn name(self) -> &'static str {
        match self {
            WebAclAttribute::Arn => "Arn",
        }
    }
}

/// `Scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Scope {
    /// API Gateway stages, load balancers, AppSync and Cognito in one region.
    Regional,
}

/// An action without settings renders as `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Empty {}

/// `DefaultAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    /// Let the request through.
    Allow(Empty),
    /// Refuse it with 403.
    Block(Empty),
}

/// `Rule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    /// Unique within the ACL.
    pub name: String,
    /// Lower runs first.
    pub priority: u32,
    /// What the rule matches.
    pub statement: Statement,
    /// A rule of its own: what it does on a match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<RuleAction>,
    /// A rule group: whether its own actions apply (`None`) or are only counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_action: Option<OverrideAction>,
    /// Metrics and sampled requests of this rule.
    pub visibility_config: VisibilityConfig,
}

/// `Statement`, of the two kinds used here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// Matches callers above a request rate.
    RateBased(RateBasedStatement),
    /// Runs a managed rule group.
    ManagedRuleGroup(ManagedRuleGroupStatement),
}

/// `RateBasedStatement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RateBasedStatement {
    /// Requests per evaluation window above which a caller matches.
    pub limit: u32,
    /// What a caller is.
    pub aggregate_key_type: AggregateKeyType,
    /// The window, in seconds.
    pub evaluation_window_sec: u32,
}

/// `AggregateKeyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AggregateKeyType {
    /// The source IP address.
    Ip,
}

/// `ManagedRuleGroupStatement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedRuleGroupStatement {
    /// `AWS`.
    pub vendor_name: String,
    /// The group (`AWSManagedRulesCommonRuleSet`).
    pub name: String,
    /// Rules of the group whose action is replaced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rule_action_overrides: Vec<RuleActionOverride>,
}

/// `RuleActionOverride`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleActionOverride {
    /// The rule within the group.
    pub name: String,
    /// Its action instead.
    pub action_to_use: RuleAction,
}

/// `RuleAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    /// Refuse the request with 403.
    Block(Empty),
    /// Only count it (in the rule's metric) and let it through.
    Count(Empty),
}

/// `OverrideAction` of a rule group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideAction {
    /// The group's own actions apply.
    None(Empty),
    /// Every match is only counted.
    Count(Empty),
}

/// `VisibilityConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VisibilityConfig {
    /// Keep samples of matching requests.
    pub sampled_requests_enabled: bool,
    /// Publish CloudWatch metrics.
    pub cloud_watch_metrics_enabled: bool,
    /// The metric name (letters, digits, `-` and `_`).
    pub metric_name: Expr,
}

/// `AWS::WAFv2::WebACLAssociation`: puts an ACL in front of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebAclAssociation {
    /// The protected resource (an API Gateway stage's ARN).
    #[serde(rename = "ResourceArn")]
    pub resource_arn: Expr,
    /// The ACL.
    #[serde(rename = "WebACLArn")]
    pub web_acl_arn: Expr,
}

impl ResourceType for WebAclAssociation {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::WAFv2::WebACLAssociation",
        stateful: false,
        replaced_by: &["ResourceArn", "WebACLArn"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

// The unions above are one-key mappings (`{"Block": {}}`). serde's own enum representation
// would do in JSON, but serde_norway writes a newtype variant as a YAML tag (`!Block {}`),
// which CloudFormation reads as an intrinsic function.

fn one_key<S: Serializer, V: Serialize>(
    serializer: S,
    key: &str,
    value: &V,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

impl Serialize for DefaultAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            DefaultAction::Allow(empty) => one_key(serializer, "Allow", empty),
            DefaultAction::Block(empty) => one_key(serializer, "Block", empty),
        }
    }
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Statement::RateBased(statement) => one_key(serializer, "RateBasedStatement", statement),
            Statement::ManagedRuleGroup(statement) => {
                one_key(serializer, "ManagedRuleGroupStatement", statement)
            }
        }
    }
}

impl Serialize for RuleAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RuleAction::Block(empty) => one_key(serializer, "Block", empty),
            RuleAction::Count(empty) => one_key(serializer, "Count", empty),
        }
    }
}

impl Serialize for OverrideAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OverrideAction::None(empty) => one_key(serializer, "None", empty),
            OverrideAction::Count(empty) => one_key(serializer, "Count", empty),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_are_one_key_mappings_in_yaml_too() {
        let yaml = serde_norway::to_string(&RuleAction::Block(Empty {})).unwrap();
        assert_eq!(yaml, "Block: {}\n");
        let json = serde_json::to_string(&OverrideAction::None(Empty {})).unwrap();
        assert_eq!(json, r#"{"None":{}}"#);
    }
}
