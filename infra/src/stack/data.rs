//! The DynamoDB table, shaped by the manifest's schema.

use super::physical_name;
use crate::cfn::dynamodb::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, SseSpecification, SseType,
    StreamSpecification, Table, TimeToLiveSpecification,
};
use crate::cfn::kms::{self, Key};
use crate::cfn::{Ref, RemovalPolicy, Resource, Template};
use crate::environment::Environment;
use tickets_manifest::table::{KeyAttribute, TICKETS};

/// Logical id of the table.
pub const TABLE: &str = "TicketsTable";

/// Declares the tickets table, encrypted with `data_key` when there is one, refusing
/// `DeleteTable` when `deletion_protection`.
pub fn table(
    template: &mut Template,
    environment: &Environment,
    data_key: Option<&Ref<Key>>,
    deletion_protection: bool,
) -> Ref<Table> {
    let schema = TICKETS;
    let protection = &environment.data_protection;
    let table = Table {
        table_name: Some(physical_name("tickets")),
        // On-demand: no capacity to plan, and nothing to pay while idle.
        billing_mode: BillingMode::PayPerRequest,
        attribute_definitions: schema
            .key_attributes()
            .into_iter()
            .map(|key| AttributeDefinition {
                attribute_name: key.name.to_owned(),
                attribute_type: key.kind.as_str().to_owned(),
            })
            .collect(),
        key_schema: vec![key(schema.partition_key, KeyType::Hash)],
        global_secondary_indexes: schema
            .indexes
            .iter()
            .map(|index| GlobalSecondaryIndex {
                index_name: index.name.to_owned(),
                key_schema: vec![
                    key(index.partition_key, KeyType::Hash),
                    key(index.sort_key, KeyType::Range),
                ],
                // Listings return whole tickets, so the index must hold every attribute.
                projection: Projection {
                    projection_type: ProjectionType::All,
                },
            })
            .collect(),
        time_to_live_specification: Some(TimeToLiveSpecification {
            attribute_name: schema.ttl_attribute.to_owned(),
            enabled: true,
        }),
        sse_specification: Some(match data_key {
            Some(data_key) => SseSpecification {
                sse_enabled: true,
                sse_type: Some(SseType::Kms),
                kms_master_key_id: Some(data_key.get_att(kms::KeyAttribute::Arn)),
            },
            None => SseSpecification {
                sse_enabled: true,
                sse_type: None,
                kms_master_key_id: None,
            },
        }),
        point_in_time_recovery_specification: Some(PointInTimeRecoverySpecification {
            point_in_time_recovery_enabled: protection.point_in_time_recovery,
        }),
        deletion_protection_enabled: Some(deletion_protection),
        // Every write, for the event path (stack/events.rs).
        stream_specification: Some(StreamSpecification {
            stream_view_type: tickets_manifest::events::STREAM_VIEW_TYPE.to_owned(),
        }),
    };
    template.add(Resource::new(TABLE, table).removal_policy(removal(environment)))
}

fn key(attribute: KeyAttribute, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement {
        attribute_name: attribute.name.to_owned(),
        key_type,
    }
}

/// What happens to stateful resources when the stack deletes or replaces them: stated
/// explicitly either way, so a reader never has to remember the default.
///
/// Kept data is kept from the moment the stack has created it, not before:
/// `RetainExceptOnCreate` lets a failed first creation delete what it made, so the next
/// deploy does not find a table or pool of the same name left behind ("already exists").
/// A replacement keeps the old resource (`UpdateReplacePolicy: Retain`).
pub fn removal(environment: &Environment) -> RemovalPolicy {
    if environment.data_protection.retain_on_delete {
        RemovalPolicy::RetainExceptOnCreate
    } else {
        RemovalPolicy::Delete
    }
}
