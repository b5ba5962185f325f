//! String-valued template expressions: literals and the intrinsics `Ref`, `Fn::GetAtt`,
//! `Fn::Sub` and `Fn::Join`.
//!
//! An [`Expr`] can only name a resource or parameter through a handle the template handed
//! out ([`Ref`](super::Ref), [`ParamRef`](super::ParamRef)) or a [`Pseudo`] parameter, so a
//! reference to something that does not exist does not compile.

use serde::ser::{Serialize, SerializeMap, Serializer};
use std::collections::BTreeMap;

/// A value that CloudFormation resolves to a string when it deploys the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr(Node);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Literal(String),
    /// `Ref` of a resource, a parameter or a pseudo parameter.
    Ref(String),
    /// `Fn::GetAtt` of a resource's attribute.
    GetAtt(String, &'static str),
    /// `Fn::Sub`, kept as the parts it concatenates.
    Sub(Vec<Node>),
    /// `Fn::Join`.
    Join(String, Vec<Node>),
    /// A value that a `Fn::Sub` names once, as a variable, however often it appears.
    Named(&'static str, Box<Node>),
}

/// CloudFormation's pseudo parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pseudo {
    /// `AWS::AccountId`
    AccountId,
    /// `AWS::Partition` (`aws`, `aws-cn`, `aws-us-gov`)
    Partition,
    /// `AWS::Region`
    Region,
    /// `AWS::StackName`
    StackName,
    /// `AWS::URLSuffix` (`amazonaws.com`, `amazonaws.com.cn`)
    UrlSuffix,
}

impl Pseudo {
    /// The name `Ref` takes.
    pub const fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::Region => "AWS::Region",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
        }
    }
}

impl Expr {
    /// A literal string.
    pub fn literal(value: impl Into<String>) -> Expr {
        Expr(Node::Literal(value.into()))
    }

    /// `Ref` of a logical id: only handles and pseudo parameters may build one.
    pub(crate) fn reference(logical_id: &str) -> Expr {
        Expr(Node::Ref(logical_id.to_owned()))
    }

    /// `Fn::GetAtt`: only resource handles may build one.
    pub(crate) fn get_att(logical_id: &str, attribute: &'static str) -> Expr {
        Expr(Node::GetAtt(logical_id.to_owned(), attribute))
    }

    /// `Fn::Sub` concatenating `parts`; see also the [`sub!`](crate::sub) macro.
    ///
    /// Literal neighbours are merged, and a result without any reference is a plain literal
    /// (CloudFormation linters flag a `Fn::Sub` that substitutes nothing).
    pub fn sub(parts: impl IntoIterator<Item = Expr>) -> Expr {
        let mut merged: Vec<Node> = Vec::new();
        for Expr(node) in parts {
            let nodes = match node {
                Node::Sub(inner) => inner,
                other => vec![other],
            };
            for node in nodes {
                match (merged.last_mut(), node) {
                    (Some(Node::Literal(last)), Node::Literal(next)) => last.push_str(&next),
                    (_, Node::Literal(next)) if next.is_empty() => {}
                    (_, node) => merged.push(node),
                }
            }
        }
        match merged.as_slice() {
            [] => Expr::literal(""),
            [Node::Literal(_)] => Expr(merged.remove(0)),
            _ => Expr(Node::Sub(merged)),
        }
    }

    /// `Fn::Join` of `items` with `separator`.
    pub fn join(separator: impl Into<String>, items: impl IntoIterator<Item = Expr>) -> Expr {
        Expr(Node::Join(
            separator.into(),
            items.into_iter().map(|Expr(node)| node).collect(),
        ))
    }

    /// `value`, which a `Fn::Sub` containing it (any number of times) writes as `${name}`
    /// and defines once in its variable map: long repeated parts stay short. Outside a
    /// `Fn::Sub`, it is `value` itself.
    pub fn named(name: &'static str, value: Expr) -> Expr {
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric()),
            "a Fn::Sub variable name is letters and digits: {name:?}"
        );
        Expr(Node::Named(name, Box::new(value.0)))
    }

    /// The string, when this is a literal.
    pub fn as_literal(&self) -> Option<&str> {
        match &self.0 {
            Node::Literal(value) => Some(value),
            _ => None,
        }
    }

    /// Logical ids (and pseudo parameters) this expression refers to, in order of appearance.
    pub fn references(&self) -> Vec<&str> {
        fn walk<'a>(node: &'a Node, out: &mut Vec<&'a str>) {
            match node {
                Node::Literal(_) => {}
                Node::Ref(id) | Node::GetAtt(id, _) => out.push(id),
                Node::Sub(parts) | Node::Join(_, parts) => {
                    parts.iter().for_each(|part| walk(part, out))
                }
                Node::Named(_, value) => walk(value, out),
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out
    }
}

impl From<&str> for Expr {
    fn from(value: &str) -> Self {
        Expr::literal(value)
    }
}

impl From<String> for Expr {
    fn from(value: String) -> Self {
        Expr::literal(value)
    }
}

impl From<Pseudo> for Expr {
    fn from(value: Pseudo) -> Self {
        Expr::reference(value.name())
    }
}

impl From<&Expr> for Expr {
    fn from(value: &Expr) -> Self {
        value.clone()
    }
}

/// `Fn::Sub` of the given parts, each anything that converts into an [`Expr`]:
/// `sub!("arn:", Pseudo::Partition, ":logs:", &log_group)`.
#[macro_export]
macro_rules! sub {
    ($($part:expr),+ $(,)?) => {
        $crate::cfn::Expr::sub([$($crate::cfn::Expr::from($part)),+])
    };
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        NodeSer(&self.0).serialize(serializer)
    }
}

struct NodeSer<'a>(&'a Node);

impl Serialize for NodeSer<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Node::Literal(value) => serializer.serialize_str(value),
            Node::Ref(id) => single(serializer, "Ref", id),
            Node::GetAtt(id, attribute) => single(serializer, "Fn::GetAtt", &[id, *attribute]),
            Node::Join(separator, items) => {
                let items: Vec<_> = items.iter().map(NodeSer).collect();
                single(serializer, "Fn::Join", &(separator, items))
            }
            Node::Named(_, value) => NodeSer(value).serialize(serializer),
            Node::Sub(parts) => {
                let mut text = String::new();
                let mut variables = BTreeMap::new();
                write_sub(parts, &mut text, &mut variables);
                if variables.is_empty() {
                    single(serializer, "Fn::Sub", &text)
                } else {
                    single(serializer, "Fn::Sub", &(text, variables))
                }
            }
        }
    }
}

/// Appends `parts` in `Fn::Sub` syntax; what `${}` cannot hold (a `Fn::Join`) becomes a
/// variable of the two-argument form.
fn write_sub<'a>(
    parts: &'a [Node],
    text: &mut String,
    variables: &mut BTreeMap<String, NodeSer<'a>>,
) {
    for part in parts {
        match part {
            // `${` in a literal would start a substitution: `${!` is the escape.
            Node::Literal(value) => text.push_str(&value.replace("${", "${!")),
            Node::Ref(id) => text.push_str(&format!("${{{id}}}")),
            Node::GetAtt(id, attribute) => text.push_str(&format!("${{{id}.{attribute}}}")),
            Node::Sub(inner) => write_sub(inner, text, variables),
            Node::Named(name, value) => {
                text.push_str(&format!("${{{name}}}"));
                let previous = variables.insert((*name).to_owned(), NodeSer(value));
                assert!(
                    previous.is_none_or(|previous| previous.0 == value.as_ref()),
                    "the Fn::Sub variable {name} stands for two different values"
                );
            }
            join @ Node::Join(..) => {
                let name = format!("Value{}", variables.len() + 1);
                text.push_str(&format!("${{{name}}}"));
                variables.insert(name, NodeSer(join));
            }
        }
    }
}

fn single<S: Serializer, V: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &V,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json_of(expr: &Expr) -> serde_json::Value {
        serde_json::to_value(expr).unwrap()
    }

    #[test]
    fn literal_renders_as_a_plain_string() {
        assert_eq!(json_of(&Expr::literal("x")), json!("x"));
    }

    #[test]
    fn ref_and_get_att_render_in_their_long_form() {
        assert_eq!(json_of(&Expr::reference("Table")), json!({"Ref": "Table"}));
        assert_eq!(
            json_of(&Expr::get_att("Table", "Arn")),
            json!({"Fn::GetAtt": ["Table", "Arn"]})
        );
        assert_eq!(
            json_of(&Pseudo::Region.into()),
            json!({"Ref": "AWS::Region"})
        );
    }

    #[test]
    fn sub_inlines_references_and_escapes_literal_placeholders() {
        let expr = crate::sub!(
            "arn:",
            Pseudo::Partition,
            ":x:",
            Expr::get_att("Fn", "Arn"),
            "/${literal}"
        );
        assert_eq!(
            json_of(&expr),
            json!({"Fn::Sub": "arn:${AWS::Partition}:x:${Fn.Arn}/${!literal}"})
        );
    }

    #[test]
    fn sub_without_references_is_a_literal() {
        assert_eq!(
            crate::sub!("a", "b", String::from("c")),
            Expr::literal("abc")
        );
    }

    #[test]
    fn sub_moves_a_join_into_a_variable() {
        let join = Expr::join(",", [Expr::literal("a"), Expr::reference("P")]);
        let expr = crate::sub!(Pseudo::StackName, "-", join);
        assert_eq!(
            json_of(&expr),
            json!({"Fn::Sub": [
                "${AWS::StackName}-${Value1}",
                {"Value1": {"Fn::Join": [",", ["a", {"Ref": "P"}]]}}
            ]})
        );
    }

    #[test]
    fn sub_defines_a_named_value_once() {
        let prefix = Expr::named("Prefix", crate::sub!("arn:", Pseudo::Partition, ":"));
        let expr = crate::sub!(
            &prefix,
            Expr::reference("A"),
            ",",
            &prefix,
            Expr::reference("B")
        );
        assert_eq!(
            json_of(&expr),
            json!({"Fn::Sub": [
                "${Prefix}${A},${Prefix}${B}",
                {"Prefix": {"Fn::Sub": "arn:${AWS::Partition}:"}}
            ]})
        );
        assert_eq!(
            json_of(&prefix),
            json!({"Fn::Sub": "arn:${AWS::Partition}:"})
        );
        assert_eq!(
            expr.references(),
            vec!["AWS::Partition", "A", "AWS::Partition", "B"]
        );
    }

    #[test]
    fn join_renders_separator_and_items() {
        let expr = Expr::join("/", [Expr::literal("a"), Expr::get_att("R", "Arn")]);
        assert_eq!(
            json_of(&expr),
            json!({"Fn::Join": ["/", ["a", {"Fn::GetAtt": ["R", "Arn"]}]]})
        );
    }

    #[test]
    fn lists_the_references_it_makes() {
        let expr = crate::sub!(Pseudo::Region, Expr::get_att("A", "Arn"), "x");
        assert_eq!(expr.references(), vec!["AWS::Region", "A"]);
    }
}
