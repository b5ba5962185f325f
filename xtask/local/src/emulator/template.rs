//! A rendered CloudFormation template as the local emulators read it: resources by type and
//! a small resolver for the intrinsics they meet (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`,
//! `Fn::Select`), with the physical names CloudFormation would give a local stack.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::Path;
use xtask_core::stack_name::StackName;
use xtask_core::tools::workspace::root;

/// The account id of local stacks (the one AWS documentation uses in examples).
pub const LOCAL_ACCOUNT: &str = "123456789012";

/// A rendered template and the stack it would be deployed as.
#[derive(Debug, Clone)]
pub struct LocalTemplate {
    json: Value,
    /// `AWS::StackName`.
    pub stack_name: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId`.
    pub account: String,
}

impl LocalTemplate {
    /// The template `cargo xtask synth --env <env>` renders, as the shared stack of `env`
    /// (`tickets-<env>`) in the environment's region.
    pub fn synthesize(env: &str) -> Result<Self> {
        Self::synthesize_in(&root(), env)
    }

    /// Renders environment `env` of the workspace at `root` with this build's infra code.
    pub fn synthesize_in(root: &Path, env: &str) -> Result<Self> {
        let environment = tickets_infra::Environment::load(root, env)
            .with_context(|| format!("reading environments/{env}.yaml"))?;
        let rendered = tickets_infra::ticket_stack(&environment).to_json();
        Self::rendered(&rendered, root, env)
    }

    /// Reads `rendered`, environment `env`'s template as `cargo xtask synth` prints it in
    /// the workspace at `root`.
    pub fn rendered(rendered: &str, root: &Path, env: &str) -> Result<Self> {
        let environment = tickets_infra::Environment::load(root, env)
            .with_context(|| format!("reading environments/{env}.yaml"))?;
        let json = serde_json::from_str(rendered).context("reading the rendered template")?;
        let stack = StackName::resolve(env, None, None)?;
        Self::new(json, stack.as_str(), environment.region.as_str())
    }

    /// Reads `json` (a whole template) as stack `stack_name` in `region`.
    pub fn new(json: Value, stack_name: &str, region: &str) -> Result<Self> {
        if !json.get("Resources").is_some_and(Value::is_object) {
            bail!("the template has no Resources section");
        }
        Ok(LocalTemplate {
            json,
            stack_name: stack_name.to_owned(),
            region: region.to_owned(),
            account: LOCAL_ACCOUNT.to_owned(),
        })
    }

    /// `(logical id, Properties)` of every resource of type `kind`, in logical-id order
    /// (sorted here: a `serde_json::Map` keeps the template's order instead when a dependency
    /// turns on serde_json's `preserve_order`, as the workspace's test build does).
    pub fn resources<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        let mut found: Vec<(&str, &Value)> = self.json["Resources"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, resource)| resource["Type"] == kind)
            .map(|(id, resource)| (id.as_str(), &resource["Properties"]))
            .collect();
        found.sort_by_key(|(id, _)| *id);
        found.into_iter()
    }

    /// The first function that is no pipe's enrichment: the one the API runs.
    pub fn api_function(&self) -> Result<(&str, &Value)> {
        let enrichments: Vec<&str> = self
            .resources("AWS::Pipes::Pipe")
            .filter_map(|(_, pipe)| pipe["Enrichment"]["Fn::GetAtt"][0].as_str())
            .collect();
        self.resources("AWS::Lambda::Function")
            .find(|(id, _)| !enrichments.contains(id))
            .context("the template has no Lambda function for the API")
    }

    /// The template without its event path (tables without streams, no pipe, no
    /// enrichment): what the bench measures writes against.
    pub fn without_event_path(&self) -> Self {
        let enrichments: Vec<String> = self
            .resources("AWS::Pipes::Pipe")
            .filter_map(|(_, pipe)| pipe["Enrichment"]["Fn::GetAtt"][0].as_str())
            .map(str::to_owned)
            .collect();
        let mut json = self.json.clone();
        if let Some(resources) = json["Resources"].as_object_mut() {
            resources.retain(|id, r| r["Type"] != "AWS::Pipes::Pipe" && !enrichments.contains(id));
            for resource in resources.values_mut() {
                if resource["Type"] == "AWS::DynamoDB::Table"
                    && let Some(properties) = resource["Properties"].as_object_mut()
                {
                    properties.remove("StreamSpecification");
                }
            }
        }
        LocalTemplate {
            json,
            ..self.clone()
        }
    }

    /// The type of resource `logical_id`, if it exists.
    pub fn kind_of(&self, logical_id: &str) -> Option<&str> {
        self.json["Resources"].get(logical_id)?["Type"].as_str()
    }

    /// The properties of resource `logical_id`.
    pub fn properties(&self, logical_id: &str) -> Result<&Value> {
        self.json["Resources"]
            .get(logical_id)
            .map(|r| &r["Properties"])
            .ok_or_else(|| anyhow!("the template has no resource {logical_id}"))
    }

    /// `value` with every intrinsic function resolved.
    pub fn resolve(&self, value: &Value) -> Result<Value> {
        match value {
            Value::Array(items) => items
                .iter()
                .map(|v| self.resolve(v))
                .collect::<Result<_>>()
                .map(Value::Array),
            Value::Object(map) if map.len() == 1 => {
                let (name, argument) = map.iter().next().expect("one entry");
                match name.as_str() {
                    "Ref" => self
                        .reference(argument.as_str().context("Ref takes a name")?)
                        .map(Value::String),
                    "Fn::GetAtt" => self.get_att_value(argument).map(Value::String),
                    "Fn::Sub" => self.sub(argument).map(Value::String),
                    "Fn::Join" => self.join(argument).map(Value::String),
                    "Fn::Select" => self.select(argument),
                    other if other.starts_with("Fn::") => {
                        bail!("{other} is not supported by the local template resolver")
                    }
                    _ => self.resolve_map(map),
                }
            }
            Value::Object(map) => self.resolve_map(map),
            other => Ok(other.clone()),
        }
    }

    /// `value` resolved to a string (numbers and booleans as CloudFormation prints them).
    pub fn resolve_string(&self, value: &Value) -> Result<String> {
        match self.resolve(value)? {
            Value::String(text) => Ok(text),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => bail!("expected a string, found {other}"),
        }
    }

    fn resolve_map(&self, map: &Map<String, Value>) -> Result<Value> {
        let mut out = Map::new();
        for (key, value) in map {
            out.insert(key.clone(), self.resolve(value)?);
        }
        Ok(Value::Object(out))
    }

    /// What `Ref` returns: a pseudo parameter, a parameter's default, or a resource's
    /// physical id.
    pub fn reference(&self, name: &str) -> Result<String> {
        match name {
            "AWS::StackName" => return Ok(self.stack_name.clone()),
            "AWS::Region" => return Ok(self.region.clone()),
            "AWS::AccountId" => return Ok(self.account.clone()),
            "AWS::Partition" => return Ok("aws".into()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".into()),
            "AWS::StackId" => {
                return Ok(format!(
                    "arn:aws:cloudformation:{}:{}:stack/{}/{}",
                    self.region,
                    self.account,
                    self.stack_name,
                    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, self.stack_name.as_bytes())
                ));
            }
            _ => {}
        }
        if let Some(parameter) = self.json["Parameters"].get(name) {
            return match &parameter["Default"] {
                Value::Null => {
                    bail!("parameter {name} has no default, so a local stack cannot resolve it")
                }
                value => self.resolve_string(value),
            };
        }
        let kind = self
            .kind_of(name)
            .ok_or_else(|| anyhow!("Ref {name}: no such resource or parameter in the template"))?;
        let properties = self.properties(name)?;
        let named = |property: &str| -> Result<Option<String>> {
            match properties.get(property) {
                Some(value) => self.resolve_string(value).map(Some),
                None => Ok(None),
            }
        };
        let id = match kind {
            "AWS::DynamoDB::Table" => named("TableName")?,
            "AWS::Lambda::Function" => named("FunctionName")?,
            "AWS::IAM::Role" => named("RoleName")?,
            "AWS::Logs::LogGroup" => named("LogGroupName")?,
            "AWS::S3::Bucket" => named("BucketName")?,
            "AWS::ApiGateway::Stage" => named("StageName")?,
            "AWS::Cognito::UserPoolGroup" => named("GroupName")?,
            _ => None,
        };
        Ok(id.unwrap_or_else(|| self.generated_id(name, kind)))
    }

    /// A stable stand-in for an id CloudFormation or the service would generate, shaped
    /// like the real one.
    fn generated_id(&self, logical_id: &str, kind: &str) -> String {
        let digits = |n: usize| stable_token(&format!("{}/{logical_id}", self.stack_name), n);
        match kind {
            "AWS::ApiGateway::RestApi" => digits(10),
            "AWS::ApiGateway::Resource"
            | "AWS::ApiGateway::Authorizer"
            | "AWS::ApiGateway::Deployment" => digits(6),
            "AWS::Cognito::UserPool" => format!("{}_{}", self.region, digits(9)),
            "AWS::Cognito::UserPoolClient" => digits(26),
            _ => format!(
                "{}-{logical_id}-{}",
                self.stack_name,
                digits(12).to_ascii_uppercase()
            ),
        }
    }

    fn get_att_value(&self, argument: &Value) -> Result<String> {
        let (id, attribute) = match argument {
            Value::Array(parts) if parts.len() == 2 => (
                parts[0]
                    .as_str()
                    .context("Fn::GetAtt takes a logical id")?
                    .to_owned(),
                self.resolve_string(&parts[1])?,
            ),
            Value::String(text) => {
                let (id, attribute) = text
                    .split_once('.')
                    .context("Fn::GetAtt \"Id.Attribute\"")?;
                (id.to_owned(), attribute.to_owned())
            }
            _ => bail!("Fn::GetAtt takes [LogicalId, Attribute]"),
        };
        self.get_att(&id, &attribute)
    }

    /// What `Fn::GetAtt` returns for the attributes the local stack knows.
    pub fn get_att(&self, id: &str, attribute: &str) -> Result<String> {
        let kind = self.kind_of(id).ok_or_else(|| {
            anyhow!("Fn::GetAtt {id}.{attribute}: no such resource in the template")
        })?;
        let (region, account) = (&self.region, &self.account);
        let physical = || self.reference(id);
        Ok(match (kind, attribute) {
            ("AWS::Lambda::Function", "Arn") => {
                format!("arn:aws:lambda:{region}:{account}:function:{}", physical()?)
            }
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:aws:dynamodb:{region}:{account}:table/{}", physical()?)
            }
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{account}:role/{}", physical()?),
            ("AWS::KMS::Key", "Arn") => {
                format!("arn:aws:kms:{region}:{account}:key/{}", physical()?)
            }
            ("AWS::Logs::LogGroup", "Arn") => format!(
                "arn:aws:logs:{region}:{account}:log-group:{}:*",
                physical()?
            ),
            ("AWS::Cognito::UserPool", "Arn") => {
                format!(
                    "arn:aws:cognito-idp:{region}:{account}:userpool/{}",
                    physical()?
                )
            }
            ("AWS::Cognito::UserPool", "ProviderName") => {
                format!("cognito-idp.{region}.amazonaws.com/{}", physical()?)
            }
            ("AWS::Cognito::UserPool", "ProviderURL") => {
                format!("https://cognito-idp.{region}.amazonaws.com/{}", physical()?)
            }
            ("AWS::Cognito::UserPool", "UserPoolId") => physical()?,
            ("AWS::Cognito::UserPoolClient", "ClientId") => physical()?,
            ("AWS::ApiGateway::RestApi", "RootResourceId") => {
                self.generated_id(&format!("{id}/"), "AWS::ApiGateway::Resource")
            }
            ("AWS::ApiGateway::RestApi", "RestApiId")
            | ("AWS::ApiGateway::Resource", "ResourceId")
            | ("AWS::ApiGateway::Authorizer", "AuthorizerId")
            | ("AWS::ApiGateway::Deployment", "DeploymentId") => physical()?,
            _ => bail!(
                "Fn::GetAtt {id}.{attribute} ({kind}) is not supported by the local template resolver"
            ),
        })
    }

    fn sub(&self, argument: &Value) -> Result<String> {
        let (text, variables) = match argument {
            Value::String(text) => (text.as_str(), None),
            Value::Array(parts) if parts.len() == 2 => (
                parts[0].as_str().context("Fn::Sub takes a string")?,
                Some(
                    parts[1]
                        .as_object()
                        .context("Fn::Sub variables must be an object")?,
                ),
            ),
            _ => bail!("Fn::Sub takes a string or [string, variables]"),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .with_context(|| format!("unclosed ${{ in Fn::Sub {text:?}"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.and_then(|v| v.get(name)) {
                out.push_str(&self.resolve_string(value)?);
            } else if let Some((id, attribute)) = name.split_once('.')
                && !name.starts_with("AWS::")
            {
                out.push_str(&self.get_att(id, attribute)?);
            } else {
                out.push_str(&self.reference(name)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn join(&self, argument: &Value) -> Result<String> {
        let parts = argument
            .as_array()
            .filter(|p| p.len() == 2)
            .context("Fn::Join takes [separator, list]")?;
        let separator = parts[0]
            .as_str()
            .context("Fn::Join separator must be a string")?;
        let items = match self.resolve(&parts[1])? {
            Value::Array(items) => items,
            _ => bail!("Fn::Join takes a list"),
        };
        let texts = items
            .iter()
            .map(|item| self.resolve_string(item))
            .collect::<Result<Vec<_>>>()?;
        Ok(texts.join(separator))
    }

    fn select(&self, argument: &Value) -> Result<Value> {
        let parts = argument
            .as_array()
            .filter(|p| p.len() == 2)
            .context("Fn::Select takes [index, list]")?;
        let index: usize = self
            .resolve_string(&parts[0])?
            .parse()
            .context("Fn::Select index")?;
        match self.resolve(&parts[1])? {
            Value::Array(mut items) if index < items.len() => Ok(items.swap_remove(index)),
            _ => bail!("Fn::Select index {index} is out of range"),
        }
    }
}

/// `n` lowercase letters and digits derived from `seed`.
fn stable_token(seed: &str, n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    let mut counter = 0u32;
    while out.len() < n {
        let digest = Sha256::new()
            .chain_update(seed)
            .chain_update(counter.to_be_bytes())
            .finalize();
        for byte in digest {
            if out.len() == n {
                break;
            }
            out.push(ALPHABET[usize::from(byte) % ALPHABET.len()] as char);
        }
        counter += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> LocalTemplate {
        LocalTemplate::new(
            json!({
                "Parameters": {"ArtifactKey": {"Type": "String", "Default": "k.zip"}},
                "Resources": {
                    "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
                        "TableName": {"Fn::Sub": "${AWS::StackName}-tickets"}}},
                    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
                    "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
                    "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}}
                }
            }),
            "tickets-local",
            "eu-west-1",
        )
        .unwrap()
    }

    #[test]
    fn resolves_names_the_template_gives() {
        let t = template();
        assert_eq!(t.reference("Table").unwrap(), "tickets-local-tickets");
        assert_eq!(t.reference("ArtifactKey").unwrap(), "k.zip");
        assert_eq!(
            t.resolve(&json!({"Fn::GetAtt": ["Table", "Arn"]})).unwrap(),
            json!("arn:aws:dynamodb:eu-west-1:123456789012:table/tickets-local-tickets")
        );
    }

    #[test]
    fn generates_stable_ids_shaped_like_the_real_ones() {
        let t = template();
        let pool = t.reference("Pool").unwrap();
        assert!(
            pool.starts_with("eu-west-1_") && pool.len() == "eu-west-1_".len() + 9,
            "{pool}"
        );
        assert_eq!(pool, template().reference("Pool").unwrap());
        assert_eq!(t.reference("Api").unwrap().len(), 10);
        assert!(t.reference("Fn").unwrap().starts_with("tickets-local-Fn-"));
    }

    #[test]
    fn substitutes_and_joins() {
        let t = template();
        let sub = json!({"Fn::Sub": ["arn:${AWS::Partition}:${X}/${Fn.Arn}/${!literal}", {"X": {"Ref": "AWS::Region"}}]});
        let fn_arn = t.get_att("Fn", "Arn").unwrap();
        assert_eq!(
            t.resolve_string(&sub).unwrap(),
            format!("arn:aws:eu-west-1/{fn_arn}/${{literal}}")
        );
        let join = json!({"Fn::Join": ["-", ["a", {"Ref": "AWS::AccountId"}, {"Fn::Select": [1, ["x", "y"]]}]]});
        assert_eq!(t.resolve_string(&join).unwrap(), "a-123456789012-y");
    }

    #[test]
    fn refuses_what_it_cannot_resolve() {
        let t = template();
        assert!(t.reference("Missing").is_err());
        assert!(t.resolve(&json!({"Fn::If": ["C", 1, 2]})).is_err());
        assert!(t.get_att("Table", "StreamArn").is_err());
    }
}
