//! Named resources an earlier stack of the same name left behind (a table or user pool
//! its `Retain` policy kept when it was deleted). A creation would fail on the table's
//! name ("already exists") after creating, and on rollback keeping, one more user pool
//! of the same name each time, so the deploy stops before `CreateStack` and says what to
//! do instead: `import` adopts them (see [`super::adoption`]).

use super::sdk::explain;
use super::target::Context;
use anyhow::Result;
use serde_json::Value;
use xtask_core::outcome::refused;

/// A resource of the template that exists already under its physical name.
#[derive(Debug, Clone)]
pub struct Leftover {
    /// Logical id in the template.
    pub logical_id: String,
    /// What it is, for people.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The id AWS gave it (a user pool's), when it differs from the name.
    pub id: Option<String>,
}

/// Refuses the creation of `ctx`'s stack from `template` while the table or the user pool
/// it names exists already.
pub async fn refuse_creation_over(ctx: &Context, template: &Value) -> Result<()> {
    let found = find(ctx, template).await?;
    if found.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = found
        .iter()
        .map(|l| match &l.id {
            Some(id) => format!("{} {} (id {id}, {})", l.kind, l.name, l.logical_id),
            None => format!("{} {} ({})", l.kind, l.name, l.logical_id),
        })
        .collect();
    let deletes: Vec<String> = found
        .iter()
        .map(|l| match (l.kind, &l.id) {
            ("user pool", Some(id)) => {
                format!("`aws cognito-idp delete-user-pool --user-pool-id {id}`")
            }
            _ => format!("`aws dynamodb delete-table --table-name {}`", l.name),
        })
        .collect();
    Err(refused(format!(
        "refusing to create stack {stack}: {} left by an earlier stack of this name exist(s) already, \
         and CloudFormation would fail on them (leaving one more user pool each try). Nothing was created. \
         To keep their data, adopt them into a new stack of this name with `cargo xtask import {flags}`, \
         then run `cargo xtask deploy {flags}` to add the rest; if the data is not needed, delete them \
         ({}) and run `cargo xtask deploy {flags}` again",
        listed.join(" and "),
        deletes.join(", "),
        flags = ctx.target.flags(),
        stack = ctx.stack
    )))
}

/// The template's tables and user pools whose names exist already.
pub async fn find(ctx: &Context, template: &Value) -> Result<Vec<Leftover>> {
    let stack = ctx.stack.as_str();
    let mut found = Vec::new();
    let resources = template["Resources"].as_object().into_iter().flatten();
    let mut pools = None;
    for (id, resource) in resources {
        let properties = &resource["Properties"];
        match resource["Type"].as_str() {
            Some("AWS::DynamoDB::Table") => {
                let Some(name) = physical_name(&properties["TableName"], stack) else {
                    continue;
                };
                if table_exists(ctx, &name).await? {
                    found.push(Leftover {
                        logical_id: id.clone(),
                        kind: "table",
                        name,
                        id: None,
                    });
                }
            }
            Some("AWS::Cognito::UserPool") => {
                let Some(name) = physical_name(&properties["UserPoolName"], stack) else {
                    continue;
                };
                if pools.is_none() {
                    pools = Some(user_pools(ctx).await?);
                }
                for (pool_id, pool_name) in pools.iter().flatten() {
                    if *pool_name == name {
                        found.push(Leftover {
                            logical_id: id.clone(),
                            kind: "user pool",
                            name: name.clone(),
                            id: Some(pool_id.clone()),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(found)
}

/// A name given as text or as `Fn::Sub` over the stack name.
fn physical_name(value: &Value, stack: &str) -> Option<String> {
    match value {
        Value::String(name) => Some(name.clone()),
        Value::Object(map) => {
            let text = map.get("Fn::Sub")?.as_str()?;
            let name = text.replace("${AWS::StackName}", stack);
            (!name.contains("${")).then_some(name)
        }
        _ => None,
    }
}

async fn table_exists(ctx: &Context, name: &str) -> Result<bool> {
    let client = aws_sdk_dynamodb::Client::new(&ctx.config);
    match client.describe_table().table_name(name).send().await {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(err) => Err(explain(&format!("looking for table {name}"), err)),
    }
}

/// Every user pool of the account and region: `(id, name)`.
async fn user_pools(ctx: &Context) -> Result<Vec<(String, String)>> {
    let client = aws_sdk_cognitoidentityprovider::Client::new(&ctx.config);
    let mut pools = Vec::new();
    let mut pages = client
        .list_user_pools()
        .max_results(60)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain("listing user pools", e))?;
        for pool in page.user_pools() {
            if let (Some(id), Some(name)) = (pool.id(), pool.name()) {
                pools.push((id.to_owned(), name.to_owned()));
            }
        }
    }
    Ok(pools)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_names_made_of_the_stack_name() {
        let sub = json!({"Fn::Sub": "${AWS::StackName}-tickets"});
        assert_eq!(
            physical_name(&sub, "tickets-prod").as_deref(),
            Some("tickets-prod-tickets")
        );
        assert_eq!(
            physical_name(&json!("fixed"), "s").as_deref(),
            Some("fixed")
        );
        let other = json!({"Fn::Sub": "${AWS::StackName}-${Suffix}"});
        assert_eq!(physical_name(&other, "s"), None);
    }
}
