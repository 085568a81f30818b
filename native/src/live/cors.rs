//! Who may use the live endpoints from a browser: the page origins of `--web-origin`. A
//! request carrying any other `Origin` is refused with 403 before it does anything (CORS alone
//! only hides answers from a foreign page, it would not stop a fault call from taking effect);
//! requests without an `Origin` (curl, tools) pass. For the allowed origins tower-http answers
//! the preflights, Private Network Access included, and adds the CORS headers.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// `routes` behind the origin gate and the CORS layer for `origins`.
pub(super) fn gate(routes: Router, origins: &[String]) -> Router {
    let allowed: Arc<Vec<HeaderValue>> = Arc::new(
        origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect(),
    );
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed.iter().cloned()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(AllowHeaders::mirror_request())
        .allow_private_network(true)
        .max_age(Duration::from_secs(600));
    let guard = move |req: Request, next: Next| {
        let allowed = allowed.clone();
        async move {
            match req.headers().get(header::ORIGIN) {
                Some(o) if !allowed.contains(o) => refuse(o),
                _ => next.run(req).await,
            }
        }
    };
    routes.layer(cors).layer(axum::middleware::from_fn(guard))
}

fn refuse(origin: &HeaderValue) -> Response {
    let o = String::from_utf8_lossy(origin.as_bytes());
    let text = format!(
        "origin {o} is not allowed: start the node with --web-origin {o} (or set \
         NACOS_RAFT_WEB_ORIGIN) to let that page watch and break it\n"
    );
    let mut r = (StatusCode::FORBIDDEN, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
