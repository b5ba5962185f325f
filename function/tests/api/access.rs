//! Identity, the admins rule, CORS, response headers, stage prefixes and unknown routes.

use crate::support::{ALLOWED_ORIGIN, Event, TestApi};
use serde_json::json;

const SOME_ID: &str = "3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8";

fn every_protected_request() -> Vec<Event> {
    let one = format!("/v1/tickets/{SOME_ID}");
    vec![
        Event::get("/v1/tickets"),
        Event::post("/v1/tickets", json!({"title": "t"})),
        Event::get(&one),
        Event::put(&one, json!({"title": "t"})),
        Event::patch(&one, json!({"title": "t"})),
        Event::delete(&one),
    ]
}

#[tokio::test]
async fn refuses_requests_without_identity_with_401() {
    let api = TestApi::start().await;
    for event in every_protected_request() {
        let problem = api.call(event.anonymous()).await.problem(401);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("Authorization")
        );
    }
    let blank_sub = Event::get("/v1/tickets").user("   ", &[]);
    api.call(blank_sub).await.problem(401);
}

#[tokio::test]
async fn only_admins_may_delete() {
    let api = TestApi::start().await;
    let id = api
        .call(Event::post("/v1/tickets", json!({"title": "t"})))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/tickets/{id}");
    let problem = api
        .call(Event::delete(&path).user(
            "0f8fad5b-d9cb-469f-a165-aaaaaaaaaaaa",
            &["support", "admins-lite"],
        ))
        .await
        .problem(403);
    assert!(problem["detail"].as_str().unwrap().contains("admins"));
    // Non-admins learn nothing about ids either.
    api.call(Event::delete("/v1/tickets/not-a-uuid"))
        .await
        .problem(403);
    api.call(Event::get(&path)).await.assert_status(200);
    api.call(Event::delete(&path).user(
        "0f8fad5b-d9cb-469f-a165-bbbbbbbbbbbb",
        &["support", "admins"],
    ))
    .await
    .assert_status(204);
}

#[tokio::test]
async fn echoes_an_allowed_origin_on_every_response() {
    let api = TestApi::start().await;
    let mut events = every_protected_request();
    events.push(Event::get("/v1/tickets").anonymous());
    events.push(Event::get("/v1/nothing-here"));
    for event in events {
        let response = api.call(event.header("Origin", ALLOWED_ORIGIN)).await;
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some(ALLOWED_ORIGIN),
            "{}",
            response.body
        );
        assert!(
            response.headers["vary"]
                .iter()
                .any(|v| v.to_ascii_lowercase().contains("origin")),
            "no Vary: Origin on {}",
            response.status
        );
        let exposed = response
            .header("access-control-expose-headers")
            .unwrap()
            .to_ascii_lowercase();
        assert!(exposed.contains("etag") && exposed.contains("location"));
    }
}

#[tokio::test]
async fn gives_a_disallowed_origin_no_cors_grant() {
    let api = TestApi::start().await;
    let response = api
        .call(Event::get("/v1/tickets").header("Origin", "https://evil.example"))
        .await;
    response.assert_status(200);
    assert_eq!(response.header("access-control-allow-origin"), None);
    let preflight = api
        .call(
            Event::new("OPTIONS", "/v1/tickets")
                .anonymous()
                .header("Origin", "https://evil.example")
                .header("Access-Control-Request-Method", "POST"),
        )
        .await;
    assert_eq!(preflight.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn answers_preflight_without_identity() {
    let api = TestApi::start().await;
    for path in ["/v1/tickets".to_owned(), format!("/v1/tickets/{SOME_ID}")] {
        let response = api
            .call(
                Event::new("OPTIONS", &path)
                    .anonymous()
                    .header("Origin", ALLOWED_ORIGIN)
                    .header("Access-Control-Request-Method", "PATCH")
                    .header("Access-Control-Request-Headers", "content-type,if-match"),
            )
            .await;
        assert!(
            response.status == 200 || response.status == 204,
            "{}",
            response.status
        );
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some(ALLOWED_ORIGIN)
        );
        assert_eq!(
            response.header("access-control-allow-methods"),
            Some("GET,POST,PUT,PATCH,DELETE,OPTIONS")
        );
        assert_eq!(
            response
                .header("access-control-allow-headers")
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("content-type,authorization,x-api-key,if-match,idempotency-key")
        );
        assert_eq!(response.header("access-control-max-age"), Some("86400"));
    }
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let api = TestApi::start().await;
    let mut events = every_protected_request();
    events.push(Event::get("/v1/tickets").anonymous());
    events.push(
        Event::new("OPTIONS", "/v1/tickets")
            .anonymous()
            .header("Origin", ALLOWED_ORIGIN),
    );
    events.push(Event::new("TRACE", "/v1/tickets"));
    for event in events {
        let response = api.call(event).await;
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(response.header("x-frame-options"), Some("DENY"));
        assert_eq!(
            response.header("strict-transport-security"),
            Some("max-age=31536000; includeSubDomains")
        );
        assert_eq!(
            response.header("cache-control"),
            Some("no-store"),
            "status {}",
            response.status
        );
    }
}

#[tokio::test]
async fn routes_match_with_or_without_the_stage_prefix() {
    let api = TestApi::start().await;
    api.call(Event::get("/v1/tickets")).await.assert_status(200);
    api.call(Event::get("/v1/tickets").stage_in_path())
        .await
        .assert_status(200);
    api.call(Event::get("/v1/tickets").stage("prod").stage_in_path())
        .await
        .assert_status(200);
    api.call(Event::get("/v1/tickets").stage("$default"))
        .await
        .assert_status(200);
    let created = api
        .call(
            Event::post("/v1/tickets", json!({"title": "t"}))
                .stage("staging")
                .stage_in_path(),
        )
        .await;
    created.assert_status(201);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/staging/v1/tickets/{id}").as_str())
    );
}

/// A stage may be named like a segment of the API's paths (`v1`, `tickets`): the routes
/// must still see `/v1/tickets`, and `Location` must still point where the client called.
#[tokio::test]
async fn serves_every_route_under_stages_named_like_path_segments() {
    let api = TestApi::start().await;
    for stage in ["v1", "tickets", "dev"] {
        for stage_in_path in [false, true] {
            let with_stage = |event: Event| {
                let event = event.stage(stage);
                if stage_in_path {
                    event.stage_in_path()
                } else {
                    event
                }
            };
            let created = api
                .call(with_stage(Event::post(
                    "/v1/tickets",
                    json!({"title": "t"}),
                )))
                .await;
            created.assert_status(201);
            let id = created.json()["id"].as_str().unwrap().to_owned();
            let one = format!("/v1/tickets/{id}");
            assert_eq!(
                created.header("location"),
                Some(format!("/{stage}{one}").as_str()),
                "stage {stage}"
            );
            for (event, status) in [
                (Event::get("/v1/tickets"), 200),
                (Event::get(&one), 200),
                (Event::put(&one, json!({"title": "u"})), 200),
                (Event::patch(&one, json!({"status": "OPEN"})), 200),
                (Event::delete(&one).admin(), 204),
            ] {
                api.call(with_stage(event)).await.assert_status(status);
            }
        }
    }
}

/// Behind a custom domain, API Gateway's `path` carries the base path mapping and no stage.
#[tokio::test]
async fn serves_every_route_behind_a_custom_domain_with_a_base_path() {
    let api = TestApi::start().await;
    for base_path in ["/api", "/tickets", "/v1", ""] {
        let created = api
            .call(Event::post("/v1/tickets", json!({"title": "t"})).custom_domain(base_path))
            .await;
        created.assert_status(201);
        let id = created.json()["id"].as_str().unwrap().to_owned();
        let one = format!("/v1/tickets/{id}");
        assert_eq!(
            created.header("location"),
            Some(format!("{base_path}{one}").as_str()),
            "base path {base_path:?}"
        );
        api.call(Event::get(&one).custom_domain(base_path))
            .await
            .assert_status(200);
        api.call(Event::get("/v1/tickets").custom_domain(base_path))
            .await
            .assert_status(200);
        api.call(Event::delete(&one).admin().custom_domain(base_path))
            .await
            .assert_status(204);
    }
}

#[tokio::test]
async fn answers_unknown_paths_with_404_and_wrong_methods_with_405() {
    let api = TestApi::start().await;
    let problem = api.call(Event::get("/v2/tickets")).await.problem(404);
    assert!(problem["detail"].as_str().unwrap().contains("/v2/tickets"));
    api.call(Event::get("/v1/tickets/a/b")).await.problem(404);
    let response = api.call(Event::delete("/v1/tickets").admin()).await;
    response.problem(405);
    let allow = response.header("allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    api.call(Event::new("POST", &format!("/v1/tickets/{SOME_ID}")).json(json!({})))
        .await
        .problem(405);
}

#[tokio::test]
async fn serves_exactly_the_manifest_routes() {
    use tickets_manifest::routes::{Method, ROUTES};
    let api = TestApi::start().await;
    let id = api
        .call(Event::post("/v1/tickets", json!({"title": "t"})))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let all = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Options,
    ];
    for route in ROUTES {
        let path = route.path.replace("{id}", &id);
        for method in all {
            let event = Event::new(method.as_str(), &path)
                .admin()
                .header("Origin", ALLOWED_ORIGIN)
                .header("Access-Control-Request-Method", "GET")
                .json(json!({"title": "t"}));
            let status = api.call(event).await.status;
            if route.methods.contains(&method) {
                assert!(
                    status != 404 && status != 405,
                    "{} {} answered {status}",
                    method.as_str(),
                    route.path
                );
            } else {
                assert_eq!(
                    status,
                    405,
                    "{} {} should not be served",
                    method.as_str(),
                    route.path
                );
            }
        }
    }
}
