//! Edge security: a WAF web ACL in front of the API stage.

use crate::cfn::apigateway::{RestApi, Stage};
use crate::cfn::wafv2::{
    AggregateKeyType, DefaultAction, Empty, ManagedRuleGroupStatement, OverrideAction,
    RateBasedStatement, Rule, RuleAction, RuleActionOverride, Scope, Statement, VisibilityConfig,
    WebAcl, WebAclAssociation, WebAclAttribute,
};
use crate::cfn::{Expr, Pseudo, Ref, Resource, Template};
use crate::environment::Environment;

/// Logical id of the web ACL.
pub const WEB_ACL: &str = "WebAcl";
/// Logical id of its association with the stage.
pub const WEB_ACL_ASSOCIATION: &str = "WebAclAssociation";

/// AWS managed rule groups, in the order they run (cheapest and most decisive first).
pub const MANAGED_RULE_GROUPS: &[&str] = &[
    // Addresses Amazon threat intelligence knows for bots and attacks.
    "AWSManagedRulesAmazonIpReputationList",
    // Request patterns of known exploits (Log4j, Java deserialization, host header...).
    "AWSManagedRulesKnownBadInputsRuleSet",
    // The OWASP-style common rule set (XSS, path traversal, size limits...).
    "AWSManagedRulesCommonRuleSet",
];

/// Declares the web ACL and attaches it to the stage, when the environment enables it.
pub fn web_acl(
    template: &mut Template,
    environment: &Environment,
    api: &Ref<RestApi>,
    stage: &Ref<Stage>,
) -> Option<Ref<WebAcl>> {
    let waf = &environment.edge.waf;
    if !waf.enabled {
        return None;
    }
    let (action, group_action) = if waf.count_only {
        (RuleAction::Count(Empty {}), OverrideAction::Count(Empty {}))
    } else {
        (RuleAction::Block(Empty {}), OverrideAction::None(Empty {}))
    };
    let mut rules = vec![Rule {
        name: "RateLimitPerIp".to_owned(),
        priority: 0,
        statement: Statement::RateBased(RateBasedStatement {
            limit: waf.rate_limit_per_5_minutes.get(),
            aggregate_key_type: AggregateKeyType::Ip,
            evaluation_window_sec: 300,
        }),
        action: Some(action),
        override_action: None,
        visibility_config: visibility("RateLimitPerIp".into()),
    }];
    for (priority, group) in (1..).zip(MANAGED_RULE_GROUPS) {
        rules.push(Rule {
            name: (*group).to_owned(),
            priority,
            statement: Statement::ManagedRuleGroup(ManagedRuleGroupStatement {
                vendor_name: "AWS".to_owned(),
                name: (*group).to_owned(),
                rule_action_overrides: overrides(group),
            }),
            action: None,
            override_action: Some(group_action),
            visibility_config: visibility((*group).into()),
        });
    }
    let acl = template.add(Resource::new(
        WEB_ACL,
        WebAcl {
            scope: Scope::Regional,
            // WAF descriptions allow no parentheses.
            description: Some(format!("Ticket API, {}", environment.name)),
            default_action: DefaultAction::Allow(Empty {}),
            rules,
            visibility_config: visibility(crate::sub!(Pseudo::StackName, "-web-acl")),
        },
    ));
    template.add(Resource::new(
        WEB_ACL_ASSOCIATION,
        WebAclAssociation {
            // The stage's `Ref` (its name) also makes the association wait for the stage.
            resource_arn: crate::sub!(
                "arn:",
                Pseudo::Partition,
                ":apigateway:",
                Pseudo::Region,
                "::/restapis/",
                api,
                "/stages/",
                stage
            ),
            web_acl_arn: acl.get_att(WebAclAttribute::Arn),
        },
    ));
    Some(acl)
}

/// Rules of a managed group that only count here, and why.
fn overrides(group: &str) -> Vec<RuleActionOverride> {
    if group != "AWSManagedRulesCommonRuleSet" {
        return Vec::new();
    }
    // The rule blocks bodies over 8 KB, but the API accepts tickets up to 64 KiB and the
    // function refuses larger bodies itself (413).
    vec![RuleActionOverride {
        name: "SizeRestrictions_BODY".to_owned(),
        action_to_use: RuleAction::Count(Empty {}),
    }]
}

/// Metrics and samples on, under `metric_name`.
fn visibility(metric_name: Expr) -> VisibilityConfig {
    VisibilityConfig {
        sampled_requests_enabled: true,
        cloud_watch_metrics_enabled: true,
        metric_name,
    }
}
