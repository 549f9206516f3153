//! HTTPS for the online intake: the ZSK operator submits KSRs, reads their
//! records on a page of their own, and fetches the SKRs once imported. The
//! same TLS, pools and limits as the room's service; no officer, no
//! administrator, no HSM.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

use crate::Error;
use crate::server::{
    ApiError, Limits, Peer, Serving, blocking, findings_page, read_body, run_until_signal,
    wants_html,
};
use signer::intake::Intake;
use signer::tls::Role;
use signer::{Clock, Now};

/// What every handler sees.
#[derive(Clone)]
struct App {
    intake: Arc<Intake>,
    clock: Clock,
    now: Option<ksr::Timestamp>,
    limits: Limits,
}

impl App {
    fn now(&self) -> Now {
        match self.now {
            Some(time) => Now { time, given: true },
            None => Now {
                time: self.clock.wall(),
                given: false,
            },
        }
    }
}

/// Serves the intake until SIGINT or SIGTERM. `now` fixes the instant the
/// checks use (exercises and tests); `listening` is told the address.
///
/// # Errors
///
/// The runtime cannot start, the address cannot be bound, or the listener
/// fails.
pub fn run_intake(
    intake: Arc<Intake>,
    clock: Clock,
    now: Option<ksr::Timestamp>,
    serving: Serving,
    listening: impl FnOnce(std::net::SocketAddr),
) -> Result<(), Error> {
    let app = Router::new()
        .route("/", get(page))
        .route("/ksrs", post(submit))
        .route("/ksrs/{id}", get(record))
        .route("/ksrs/{id}/skr", get(skr))
        .fallback(|| async { ApiError::new(404, "no such endpoint") })
        .with_state(App {
            intake,
            clock,
            now,
            limits: serving.limits,
        });
    run_until_signal(serving, app, listening, None, || {})
}

fn failure(err: &signer::Error) -> ApiError {
    let status = match err {
        signer::Error::Refused(_) => 422,
        signer::Error::Key(_) => 409,
        signer::Error::Busy { .. } => 503,
        signer::Error::Media(_) => 409,
        _ => 500,
    };
    ApiError::new(status, err.to_string())
}

async fn submit(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let client = peer.require(&[Role::ZskOperator])?.clone();
    let html = wants_html(&headers);
    let body = read_body(body, ksr::MAX_DOCUMENT_SIZE, app.limits.client_timeout).await?;
    let now = app.now();
    let intake = Arc::clone(&app.intake);
    let result = tokio::task::spawn_blocking(move || intake.submit(&client, body.to_vec(), now))
        .await
        .map_err(|_| ApiError::new(500, "the request failed inside the intake"))?;
    Ok(match result {
        Ok(submitted) => {
            let report = serde_json::to_value(submitted.report.to_json()).unwrap_or_default();
            let status = if submitted.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            if html {
                let title = format!("{} accepted", submitted.record.id);
                (
                    status,
                    Html(findings_page(&title, Some(&submitted.record), &report)),
                )
                    .into_response()
            } else {
                (
                    status,
                    Json(serde_json::json!({"ksr": submitted.record, "report": report})),
                )
                    .into_response()
            }
        }
        Err(signer::Error::Refused(report)) => {
            let message = "the KSR failed its checks: nothing was stored";
            let report = serde_json::to_value(report.to_json()).unwrap_or_default();
            if html {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Html(findings_page(message, None, &report)),
                )
                    .into_response()
            } else {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(serde_json::json!({"error": message, "report": report})),
                )
                    .into_response()
            }
        }
        Err(err) => failure(&err).into_response(),
    })
}

/// A record, for the ZSK operator who submitted it.
async fn record(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let client = peer.require(&[Role::ZskOperator])?.clone();
    let intake = Arc::clone(&app.intake);
    let record = blocking(move || intake.read_record(&id).map_err(|err| failure(&err))).await?;
    record
        .filter(|record| record.submitted_by == client.name)
        .map(Json)
        .ok_or_else(|| ApiError::new(404, "no such KSR of yours"))
}

async fn skr(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let client = peer.require(&[Role::ZskOperator])?.clone();
    let intake = Arc::clone(&app.intake);
    let wanted = id.clone();
    let (record, bytes) = blocking(move || {
        let record = intake.read_record(&wanted).map_err(|err| failure(&err))?;
        match record {
            Some(record) if record.submitted_by == client.name => {
                let bytes = intake.skr(&client, &wanted).map_err(|err| failure(&err))?;
                Ok((record, bytes))
            }
            _ => Err(ApiError::new(404, format!("no KSR {wanted:?} of yours"))),
        }
    })
    .await?;
    let Some(bytes) = bytes else {
        return Err(ApiError::new(
            409,
            format!(
                "{id} is not signed yet (it is {}): its SKR comes back on the medium",
                serde_json::to_value(record.state)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
        ));
    };
    let kind = if bytes.starts_with(b"<") {
        "application/xml"
    } else {
        "text/plain"
    };
    Ok(([(header::CONTENT_TYPE, kind)], bytes))
}

/// The ZSK operator's page: their KSRs and where each stands.
async fn page(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
) -> Result<impl IntoResponse, ApiError> {
    let client = peer.require(&[Role::ZskOperator])?.clone();
    let intake = Arc::clone(&app.intake);
    let records = blocking(move || intake.records().map_err(|err| failure(&err))).await?;
    let mut rows = String::new();
    for record in records
        .iter()
        .filter(|record| record.submitted_by == client.name)
    {
        let state = serde_json::to_value(record.state)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{state}\">{state}</td><td><code>{}</code><br><small>{}</small></td></tr>\n",
            ksr::xml_escape(&record.id),
            ksr::xml_escape(&record.domain),
            ksr::xml_escape(&record.format),
            record.bundles,
            ksr::xml_escape(&record.ksr_sha256),
            ksr::xml_escape(&record.ksr_pgp_words),
        ));
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"6\">no KSRs yet</td></tr>");
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>KSR intake</title>\
         <style>body{{font:18px/1.4 sans-serif;margin:2em}}td,th{{padding:.3em .6em;border-bottom:1px solid #ccc;text-align:left;vertical-align:top}}\
         code{{word-break:break-all}}.signed{{color:#070}}.exported{{color:#850}}</style></head><body>\
         <h1>KSR intake: {}</h1><p>Your KSRs, as the intake holds them. <em>accepted</em>: checked and kept; \
         <em>exported</em>: on its way to the signer on removable media; <em>signed</em>: fetch the SKR \
         (ceremony skr fetch).</p><table><tr><th>id</th><th>zone</th><th>format</th><th>bundles</th><th>state</th><th>SHA-256 (read it over the phone)</th></tr>{rows}</table></body></html>",
        ksr::xml_escape(&client.name)
    );
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)))
}
