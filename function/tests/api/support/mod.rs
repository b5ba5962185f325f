//! Test harness: the real handler behind the real Lambda event path, against a real
//! DynamoDB-compatible server (dynoxide) on a free loopback port.

pub mod contract;
pub mod emf;
pub mod event;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
pub use event::{Event, Response};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Service};
use manage_tickets::config::Config;
use manage_tickets::store::TicketStore;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tickets_manifest::cors::Origin;
use tickets_manifest::table::{AttributeType, TICKETS};
use tokio::sync::oneshot;
use tower::util::BoxCloneSyncService;

/// The origin the tests' configuration allows.
pub const ALLOWED_ORIGIN: &str = "https://app.example.com";

/// Records the name of every DynamoDB operation a client sends.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<BTreeSet<String>>>);

impl Recorder {
    /// Operation names seen so far.
    pub fn operations(&self) -> BTreeSet<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "OperationRecorder"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.0.lock().unwrap().insert(metadata.name().to_owned());
        }
        Ok(())
    }
}

/// A DynamoDB client for `endpoint` with dummy credentials and no environment lookups, and
/// the function's own timeouts and retries.
pub fn client(endpoint: &str, recorder: Option<Recorder>) -> Client {
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(manage_tickets::store::client::http_client())
        .timeout_config(manage_tickets::store::client::timeouts())
        .retry_config(manage_tickets::store::client::retries())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"));
    if let Some(recorder) = recorder {
        config = config.interceptor(recorder);
    }
    Client::from_conf(config.build())
}

/// Creates the tickets table, as the manifest declares it.
pub async fn create_table(client: &Client, table: &str) {
    let kind = |k: AttributeType| match k {
        AttributeType::S => ScalarAttributeType::S,
        AttributeType::N => ScalarAttributeType::N,
        AttributeType::B => ScalarAttributeType::B,
    };
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .unwrap()
    };
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(TICKETS.partition_key.name, KeyType::Hash));
    for attribute in TICKETS.key_attributes() {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute.name)
                .attribute_type(kind(attribute.kind))
                .build()
                .unwrap(),
        );
    }
    for index in TICKETS.indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(key(index.partition_key.name, KeyType::Hash))
                .key_schema(key(index.sort_key.name, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        );
    }
    request.send().await.expect("create the tickets table");
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TICKETS.ttl_attribute)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("enable TTL");
}

/// A DynamoDB engine on a free loopback port, stopped when dropped.
pub struct Dynamo {
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Dynamo {
    /// Starts an in-memory engine.
    pub async fn start() -> Self {
        let db = dynoxide::Database::memory().expect("open an in-memory database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(dynoxide::server::serve_with_shutdown(listener, db, async {
            let _ = stopped.await;
        }));
        Dynamo {
            endpoint,
            stop: Some(stop),
        }
    }
}

impl Drop for Dynamo {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

type Handler = BoxCloneSyncService<lambda_http::Request, axum::response::Response, Infallible>;

/// The function, as Lambda would run it, on its own table.
pub struct TestApi {
    handler: Handler,
    /// Where the DynamoDB engine listens.
    pub endpoint: String,
    /// Operations the function sent to DynamoDB.
    pub recorder: Recorder,
    /// The table's name.
    pub table: String,
    /// A client without the recorder, for set-up and inspection.
    pub admin: Client,
    _dynamo: Option<Dynamo>,
}

/// The configuration the tests run with.
pub fn config(table: &str) -> Config {
    Config {
        table_name: table.to_owned(),
        allowed_origins: vec![Origin::Exact(ALLOWED_ORIGIN.to_owned())],
        log: Default::default(),
    }
}

impl TestApi {
    /// A fresh engine, table and function.
    pub async fn start() -> Self {
        Self::start_with_table("tickets").await
    }

    /// A fresh engine, a table named `table` and the function.
    pub async fn start_with_table(table: &str) -> Self {
        let dynamo = Dynamo::start().await;
        let endpoint = dynamo.endpoint.clone();
        let mut api = Self::against(&endpoint, config(table)).await;
        create_table(&api.admin, &api.table).await;
        api._dynamo = Some(dynamo);
        api
    }

    /// The function pointed at `endpoint`, which may have no table or no server at all.
    pub async fn against(endpoint: &str, config: Config) -> Self {
        let recorder = Recorder::default();
        let store = TicketStore::new(client(endpoint, Some(recorder.clone())), &config.table_name);
        TestApi {
            handler: BoxCloneSyncService::new(manage_tickets::app::service::<lambda_http::Body>(
                store, &config,
            )),
            endpoint: endpoint.to_owned(),
            recorder,
            table: config.table_name.clone(),
            admin: client(endpoint, None),
            _dynamo: None,
        }
    }

    /// Sends one API Gateway REST proxy event through `lambda_http` and returns the proxy
    /// response it produced.
    pub async fn call(&self, event: Event) -> Response {
        let json = event.to_json();
        let request: LambdaRequest =
            serde_json::from_value(json).expect("a valid REST proxy event");
        // `lambda_http`'s adapter is what `lambda_http::run` wraps around a service.
        let future =
            Adapter::from(self.handler.clone()).call(LambdaEvent::new(request, Context::default()));
        let response = future.await.expect("the handler is infallible");
        let response = Response::from_proxy(
            serde_json::to_value(response).expect("a serialisable proxy response"),
        );
        contract::contract().check(event.method(), event.resource(), &response);
        response
    }
}
