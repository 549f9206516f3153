//! HTTPS for the service: TLS 1.3 with optional client certificates, one
//! task per connection (a slow client holds only its own), timeouts on the
//! handshake, the headers and the body, a cap on connections, and the
//! routes. Handlers translate between HTTP and [`Service`]; the rules live
//! there, and the status codes here.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use http_body_util::BodyExt as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::Error;
use signer::Client;
use signer::service::wire::{
    ErrorAnswer, LoadRequest, PresentRequest, SignRequest, Status, WrongPinNotice,
};
use signer::service::{Service, ServiceError};
use signer::tls::{self, AllowList, Role};
use tokio::sync::watch;

/// The witness page: plain HTML, CSS and a little JavaScript.
const WITNESS_PAGE: &str = include_str!("witness.html");

/// Connections of clients with a certificate served at once: the
/// officers, the ZSK operator and the administrator are few.
const CLIENT_CONNECTIONS: usize = 64;

/// The largest presentation or confirmation body.
const SMALL_BODY: usize = 16 * 1024;

/// The largest transfer set upload: two documents at their limit and the
/// manifests, in hex.
const TRANSFER_BODY: usize = 5 * ksr::MAX_DOCUMENT_SIZE;

/// How the server treats its clients.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// For the TLS handshake, the request headers, and each request body.
    pub client_timeout: Duration,
    /// TLS handshakes at once, and connections without a client
    /// certificate (witnesses) at once; more wait in the kernel's backlog
    /// or, once established, are closed.
    pub max_connections: usize,
}

/// What every handler sees.
#[derive(Clone)]
struct App {
    service: Arc<Service>,
    status: Arc<watch::Sender<Status>>,
    limits: Limits,
}

/// A refused request: an HTTP status, a sentence, and for a refused KSR
/// its findings. The status codes are decided here, and only here.
#[derive(Debug)]
pub struct ApiError {
    status: u16,
    error: String,
    report: Option<serde_json::Value>,
}

impl ApiError {
    pub(crate) fn new(status: u16, error: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            report: None,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        let status = match &err {
            ServiceError::Invalid(_) => 400,
            ServiceError::Forbidden(_) => 403,
            ServiceError::NotFound(_) => 404,
            ServiceError::Conflict(_) => 409,
            ServiceError::Refused { .. } | ServiceError::Transfer(_) => 422,
            ServiceError::Failed(_) => 500,
            ServiceError::Stopping => 503,
        };
        let report = match &err {
            ServiceError::Refused { report, .. } => serde_json::to_value(report.to_json()).ok(),
            _ => None,
        };
        Self {
            status,
            error: err.to_string(),
            report,
        }
    }
}

/// The client of one connection, from its certificate and the allow-list.
#[derive(Clone, Debug)]
pub(crate) enum Peer {
    /// No certificate: the public pages only.
    Anonymous,
    /// A certificate from our CA that the allow-list does not name.
    Unlisted(String),
    /// A listed client, with its role.
    Listed(Client, Role),
}

impl Peer {
    /// The client, if it may act as one of `roles`.
    pub(crate) fn require(&self, roles: &[Role]) -> Result<&Client, ApiError> {
        match self {
            Self::Anonymous => Err(ApiError::new(401, "a client certificate is required")),
            Self::Unlisted(fingerprint) => Err(ApiError::new(
                403,
                format!("certificate {fingerprint} is not on the allow-list"),
            )),
            Self::Listed(client, role) if roles.contains(role) => Ok(client),
            Self::Listed(client, role) => Err(ApiError::new(
                403,
                format!("{} ({}) may not do this", client.name, role.as_str()),
            )),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = match self.report {
            Some(report) => serde_json::json!({"error": self.error, "report": report}),
            None => serde_json::to_value(ErrorAnswer { error: self.error }).unwrap_or_default(),
        };
        (status, Json(body)).into_response()
    }
}

//------------ Running the service -------------------------------------------

/// The witnesses' view: the status the signer's service publishes, which
/// `/status` and `/events` serve without taking the service's lock.
pub struct Witness {
    sender: Arc<watch::Sender<Status>>,
}

impl Witness {
    /// No status yet.
    pub fn new() -> Self {
        Self {
            sender: Arc::new(watch::Sender::new(Status::default())),
        }
    }

    /// What the service calls at every change.
    pub fn publisher(&self) -> Box<dyn Fn(&Status) + Send + Sync> {
        let sender = Arc::clone(&self.sender);
        Box::new(move |now: &Status| {
            sender.send_if_modified(|current| {
                if current == now {
                    false
                } else {
                    now.clone_into(current);
                    true
                }
            });
        })
    }
}

impl Default for Witness {
    fn default() -> Self {
        Self::new()
    }
}

/// Where and how the service is served.
pub struct Serving {
    /// The server's TLS ([`signer::tls::server_config`]).
    pub tls: rustls::ServerConfig,
    /// The clients and their roles.
    pub allow: AllowList,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Timeouts and connection caps.
    pub limits: Limits,
}

/// Serves the service until SIGINT or SIGTERM, then stops it (a signing
/// job finishes, a confirmed operation is withdrawn). `listening` is told
/// the address once the socket is bound.
///
/// # Errors
///
/// The runtime cannot start, the address cannot be bound, or the listener
/// fails.
pub fn run(
    service: Arc<Service>,
    witness: &Witness,
    serving: Serving,
    listening: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    let app = router(App {
        service: Arc::clone(&service),
        status: Arc::clone(&witness.sender),
        limits: serving.limits,
    });
    let ticking = Arc::clone(&service);
    run_until_signal(
        serving,
        app,
        listening,
        Some(Arc::new(move || ticking.tick())),
        || service.shutdown(),
    )
}

/// What runs once a second while a server serves.
pub(crate) type Ticker = Arc<dyn Fn() + Send + Sync>;

/// Runs `app` on a runtime of its own until SIGINT or SIGTERM: binds the
/// address and tells `listening` it, serves (with `every_second` run off
/// the async threads once a second), then calls `stopped` before the
/// connections still open are dropped with the runtime.
///
/// # Errors
///
/// The runtime cannot start, the address cannot be bound, or the listener
/// fails.
pub(crate) fn run_until_signal(
    serving: Serving,
    app: Router,
    listening: impl FnOnce(SocketAddr),
    every_second: Option<Ticker>,
    stopped: impl FnOnce(),
) -> Result<(), Error> {
    let failed = |what: &str, err: std::io::Error| Error::Serve(format!("{what}: {err}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| failed("cannot start the runtime", err))?;
    let result = runtime.block_on(async {
        let listener = TcpListener::bind(serving.listen)
            .await
            .map_err(|err| failed(&format!("cannot listen on {}", serving.listen), err))?;
        listening(
            listener
                .local_addr()
                .map_err(|err| failed("no address", err))?,
        );
        let ticker = every_second.map(|tick| {
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(Duration::from_secs(1));
                loop {
                    interval.tick().await;
                    let tick = Arc::clone(&tick);
                    let _ = tokio::task::spawn_blocking(move || tick()).await;
                }
            })
        });
        let served = serve(listener, serving, app, stop_signal()).await;
        if let Some(ticker) = ticker {
            ticker.abort();
        }
        served.map_err(|err| failed("the server failed", err))
    });
    stopped();
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        let _ = interrupt.await;
        return;
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}

/// Serves `app` until `shutdown` completes: the TLS handshake, the
/// client's certificate looked up in the allow-list (the handlers see it
/// as a [`Peer`]), the connection pools and timeouts.
async fn serve(
    listener: TcpListener,
    serving: Serving,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let Serving {
        tls, allow, limits, ..
    } = serving;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let allow = Arc::new(allow);
    // Handshakes in progress are bounded; once a connection is
    // established it takes a slot from its own pool, so anonymous viewers
    // (the witness page's event streams) cannot take the slots of the
    // officers, the ZSK operator and the administrator.
    let handshakes = Arc::new(Semaphore::new(limits.max_connections));
    let pools = Pools {
        anonymous: Arc::new(Semaphore::new(limits.max_connections)),
        clients: Arc::new(Semaphore::new(CLIENT_CONNECTIONS)),
    };
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => return Ok(()),
            permit = Arc::clone(&handshakes).acquire_owned() => permit.map_err(std::io::Error::other)?,
        };
        let (tcp, _) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, a reset before accept: not fatal,
                // but not worth a busy loop either.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (acceptor, app, allow, pools) = (
            acceptor.clone(),
            app.clone(),
            Arc::clone(&allow),
            pools.clone(),
        );
        tokio::spawn(async move {
            let Ok(Ok(tls)) =
                tokio::time::timeout(limits.client_timeout, acceptor.accept(tcp)).await
            else {
                return;
            };
            drop(permit);
            let certificate = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
            let pool = if certificate.is_some() {
                &pools.clients
            } else {
                &pools.anonymous
            };
            // A full pool closes the connection rather than queue it.
            let Ok(_slot) = Arc::clone(pool).try_acquire_owned() else {
                return;
            };
            let peer = match certificate {
                None => Peer::Anonymous,
                Some(certificate) => {
                    let fingerprint = tls::fingerprint(certificate.as_ref());
                    match allow.client(&fingerprint) {
                        Some((name, role)) => Peer::Listed(
                            Client {
                                name: name.to_owned(),
                                role: role.as_str().to_owned(),
                                fingerprint,
                            },
                            role,
                        ),
                        None => Peer::Unlisted(fingerprint),
                    }
                }
            };
            let service = TowerToHyperService::new(app.layer(Extension(peer)));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.client_timeout)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// The connection slots of clients with and without a certificate.
#[derive(Clone)]
struct Pools {
    anonymous: Arc<Semaphore>,
    clients: Arc<Semaphore>,
}

fn router(app: App) -> Router {
    Router::new()
        .route("/", get(witness_page))
        .route("/status", get(status))
        .route("/events", get(events))
        .route("/session", get(session))
        .route("/session/reset", post(reset))
        .route("/present", post(present))
        .route("/present/wrong-pin", post(wrong_pin))
        .route("/transfers", post(load))
        .route("/ksrs/{id}", get(ksr_record))
        .route("/ksrs/{id}/skr", get(skr))
        .route("/ksrs/{id}/sign", post(sign))
        .fallback(|| async { ApiError::new(404, "no such endpoint") })
        .with_state(app)
}

async fn witness_page() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], Html(WITNESS_PAGE))
}

async fn status(State(app): State<App>) -> impl IntoResponse {
    let status = app.status.borrow().clone();
    ([(header::CACHE_CONTROL, "no-store")], Json(status))
}

/// Server-sent events: the status now and at every change, with a comment
/// every 15 seconds to keep proxies from closing the stream.
async fn events(State(app): State<App>) -> impl IntoResponse {
    let receiver = app.status.subscribe();
    let stream =
        futures_util::stream::unfold((receiver, true), |(mut receiver, first)| async move {
            if !first {
                match tokio::time::timeout(Duration::from_secs(15), receiver.changed()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return None,
                    Err(_) => {
                        return Some((
                            Ok::<_, Infallible>(Bytes::from_static(b": keep-alive\n\n")),
                            (receiver, false),
                        ));
                    }
                }
            }
            let json = serde_json::to_string(&*receiver.borrow_and_update()).unwrap_or_default();
            Some((
                Ok(Bytes::from(format!("data: {json}\n\n"))),
                (receiver, false),
            ))
        });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
}

async fn session(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
) -> Result<impl IntoResponse, ApiError> {
    peer.require(&[Role::Officer])?;
    Ok(Json(app.service.offer()?))
}

async fn present(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let client = peer.require(&[Role::Officer])?.clone();
    let body = read_body(body, SMALL_BODY, app.limits.client_timeout).await?;
    let request: PresentRequest = parse_json(&body)?;
    let service = Arc::clone(&app.service);
    let answer = blocking(move || Ok(service.present(&client, &request)?)).await?;
    let status = if answer.accepted {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    Ok((status, Json(answer)))
}

async fn wrong_pin(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let client = peer.require(&[Role::Officer])?.clone();
    let body = read_body(body, SMALL_BODY, app.limits.client_timeout).await?;
    let notice: WrongPinNotice = parse_json(&body)?;
    let service = Arc::clone(&app.service);
    blocking(move || Ok(service.wrong_pin(&client, &notice)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn load(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let client = peer.require(&[Role::Admin])?.clone();
    let body = read_body(body, TRANSFER_BODY, app.limits.client_timeout).await?;
    let request: LoadRequest = parse_json(&body)?;
    let mut files = std::collections::BTreeMap::new();
    for (name, text) in request.files {
        let bytes =
            hex::decode(&text).map_err(|_| ApiError::new(400, format!("{name}: not hex")))?;
        files.insert(name, bytes);
    }
    let service = Arc::clone(&app.service);
    let answer = blocking(move || Ok(service.load(&client, &request.name, files)?)).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn ksr_record(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    peer.require(&[Role::ZskOperator, Role::Admin])?;
    app.service
        .ksr(&id)
        .map(Json)
        .ok_or_else(|| ApiError::new(404, format!("no KSR {id:?}")))
}

async fn skr(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    peer.require(&[Role::ZskOperator, Role::Admin])?;
    let service = Arc::clone(&app.service);
    let bytes = blocking(move || Ok(service.skr(&id)?)).await?;
    let kind = if bytes.starts_with(b";;") {
        "text/plain"
    } else {
        "application/xml"
    };
    Ok(([(header::CONTENT_TYPE, kind)], bytes))
}

async fn sign(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
    Path(id): Path<String>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let client = peer.require(&[Role::Admin])?.clone();
    let body = read_body(body, SMALL_BODY, app.limits.client_timeout).await?;
    let request: SignRequest = parse_json(&body)?;
    let service = Arc::clone(&app.service);
    let record = blocking(move || Ok(service.confirm(&client, &id, &request)?)).await?;
    Ok((StatusCode::ACCEPTED, Json(record)))
}

async fn reset(
    State(app): State<App>,
    Extension(peer): Extension<Peer>,
) -> Result<impl IntoResponse, ApiError> {
    let client = peer.require(&[Role::Admin])?.clone();
    let service = Arc::clone(&app.service);
    blocking(move || Ok(service.reset(&client)?)).await?;
    Ok(Json(app.status.borrow().clone()))
}

/// Reads a whole body within the size limit (413 past it) and the time
/// limit (408: a client trickling its body does not hold a slot for long).
pub(crate) async fn read_body(
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(body, limit);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => Err(ApiError::new(
            408,
            "the request body did not arrive in time",
        )),
        Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
            413,
            format!("the request body is over the limit of {limit} bytes"),
        )),
        Ok(Err(err)) => Err(ApiError::new(
            400,
            format!("the request body could not be read: {err}"),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|err| ApiError::new(400, format!("malformed JSON: {err}")))
}

/// Runs the synchronous service off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError::new(500, "the request failed inside the service"))?
}

pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The findings of a submitted KSR as a page, for a browser.
pub(crate) fn findings_page(
    title: &str,
    record: Option<&signer::service::wire::KsrRecord>,
    report: &serde_json::Value,
) -> String {
    let mut rows = String::new();
    for finding in report["findings"].as_array().into_iter().flatten() {
        let place = match (finding["line"].as_u64(), finding["bundle_number"].as_u64()) {
            (Some(line), _) => format!("line {line}:{}", finding["column"].as_u64().unwrap_or(0)),
            (None, Some(bundle)) => format!("bundle {bundle}"),
            (None, None) => String::new(),
        };
        rows.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            ksr::xml_escape(finding["severity"].as_str().unwrap_or("")),
            ksr::xml_escape(finding["severity"].as_str().unwrap_or("")),
            ksr::xml_escape(finding["code"].as_str().unwrap_or("")),
            ksr::xml_escape(&place),
            ksr::xml_escape(finding["message"].as_str().unwrap_or("")),
        ));
    }
    let hash = record.map_or_else(String::new, |record| {
        format!(
            "<p>SHA-256 <code>{}</code><br>{}</p>",
            ksr::xml_escape(&record.ksr_sha256),
            ksr::xml_escape(&record.ksr_pgp_words)
        )
    });
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font:20px/1.4 sans-serif;background:#000;color:#fff;margin:2em}}\
         td{{padding:.2em .6em;border-bottom:1px solid #444}}.error{{color:#ff8080}}.warning{{color:#ffd75e}}</style>\
         </head><body><h1>{title}</h1>{hash}<p>{} error(s), {} warning(s)</p><table>{rows}</table></body></html>",
        report["errors"].as_u64().unwrap_or(0),
        report["warnings"].as_u64().unwrap_or(0),
        title = ksr::xml_escape(title),
    )
}
