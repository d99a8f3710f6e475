//! A minimal Lambda Runtime API (the `2018-06-01` interface a custom runtime polls) and an
//! API Gateway HTTP API stand-in in front of it.
//!
//! Each function gets its own runtime API listener, so a function binary started with
//! `AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>` talks to exactly the endpoints it would talk to in
//! AWS: `GET /runtime/invocation/next`, `POST /runtime/invocation/{id}/response` and `/error`,
//! `POST /runtime/init/error`. One process per function handles one invocation at a time, as one
//! Lambda instance does (and as `cargo lambda watch` does locally).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::event;

const API: &str = "/2018-06-01/runtime";

/// What the function answered for one invocation.
#[derive(Debug)]
pub enum Outcome {
    /// `POST /invocation/{id}/response`, with the time from handing out the event to the answer.
    Response { body: Bytes, handler: Duration },
    /// `POST /invocation/{id}/error`.
    Error { body: Bytes, handler: Duration },
}

struct Invocation {
    request_id: String,
    event: Bytes,
    reply: oneshot::Sender<Outcome>,
}

/// One function's runtime API: a queue of invocations and the ones handed out.
pub struct RuntimeApi {
    pub name: String,
    pub addr: SocketAddr,
    queue: mpsc::Sender<Invocation>,
    waiting: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    pending: Mutex<HashMap<String, (oneshot::Sender<Outcome>, Instant)>>,
    first_next: Mutex<Option<Instant>>,
    init_error: Mutex<Option<String>>,
    counter: AtomicU64,
    /// The function process, once started: its CPU time is sampled at the first `/next` and
    /// at the first answer.
    pid: Mutex<Option<u32>>,
    first_next_cpu_ns: Mutex<Option<u64>>,
    first_answer_cpu_ns: Mutex<Option<u64>>,
}

impl RuntimeApi {
    /// Binds a listener on an ephemeral local port and serves the runtime API on it.
    pub async fn start(name: &str) -> anyhow::Result<Arc<Self>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (queue, waiting) = mpsc::channel(1024);
        let api = Arc::new(Self {
            name: name.to_string(),
            addr,
            queue,
            waiting: tokio::sync::Mutex::new(waiting),
            pending: Mutex::new(HashMap::new()),
            first_next: Mutex::new(None),
            init_error: Mutex::new(None),
            counter: AtomicU64::new(0),
            pid: Mutex::new(None),
            first_next_cpu_ns: Mutex::new(None),
            first_answer_cpu_ns: Mutex::new(None),
        });
        let served = Arc::clone(&api);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let api = Arc::clone(&served);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let api = Arc::clone(&api);
                        async move { Ok::<_, Infallible>(api.serve(req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(api)
    }

    /// When the function first asked for work (the end of its init phase), if it did.
    pub fn first_next(&self) -> Option<Instant> {
        self.first_next.lock().map(|g| *g).unwrap_or(None)
    }

    /// Records the function process serving this API.
    pub fn set_pid(&self, pid: u32) {
        if let Ok(mut slot) = self.pid.lock() {
            *slot = Some(pid);
        }
    }

    /// The process's CPU time (ns) when it first asked for work, and when it first answered.
    pub fn cold_cpu_ns(&self) -> (Option<u64>, Option<u64>) {
        let get = |m: &Mutex<Option<u64>>| m.lock().ok().and_then(|g| *g);
        (get(&self.first_next_cpu_ns), get(&self.first_answer_cpu_ns))
    }

    fn sample_cpu_once(&self, slot: &Mutex<Option<u64>>) {
        let pid = self.pid.lock().ok().and_then(|g| *g);
        if let (Some(pid), Ok(mut slot)) = (pid, slot.lock()) {
            if slot.is_none() {
                *slot = crate::procfs::thread_cpu_ns(pid);
            }
        }
    }

    /// What the function reported to `/runtime/init/error`, if anything.
    pub fn init_error(&self) -> Option<String> {
        self.init_error.lock().ok().and_then(|g| g.clone())
    }

    /// Queues one event and waits for the function's answer.
    pub async fn invoke(&self, event: Bytes, timeout: Duration) -> anyhow::Result<Outcome> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), n);
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Invocation {
                request_id,
                event,
                reply,
            })
            .await
            .map_err(|_| anyhow!("{}: invocation queue closed", self.name))?;
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Err(anyhow!("{}: invocation dropped", self.name)),
            Err(_) => Err(anyhow!("{}: no answer within {:?}", self.name, timeout)),
        }
    }

    async fn serve(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        let Some(rest) = path.strip_prefix(API) else {
            return plain(StatusCode::NOT_FOUND, "unknown path");
        };
        if method == Method::GET && rest == "/invocation/next" {
            return self.next().await;
        }
        if method == Method::POST && rest == "/init/error" {
            let body = collect(req).await;
            if let Ok(mut slot) = self.init_error.lock() {
                *slot = Some(String::from_utf8_lossy(&body).into_owned());
            }
            return accepted();
        }
        if method == Method::POST {
            if let Some(tail) = rest.strip_prefix("/invocation/") {
                let (id, kind) = match tail.rsplit_once('/') {
                    Some(parts) => parts,
                    None => return plain(StatusCode::NOT_FOUND, "unknown path"),
                };
                let body = collect(req).await;
                self.sample_cpu_once(&self.first_answer_cpu_ns);
                let entry = self.pending.lock().ok().and_then(|mut p| p.remove(id));
                let Some((reply, handed_out)) = entry else {
                    return plain(StatusCode::BAD_REQUEST, "unknown request id");
                };
                let handler = handed_out.elapsed();
                let outcome = match kind {
                    "response" => Outcome::Response { body, handler },
                    "error" => Outcome::Error { body, handler },
                    _ => return plain(StatusCode::NOT_FOUND, "unknown path"),
                };
                let _ = reply.send(outcome);
                return accepted();
            }
        }
        plain(StatusCode::NOT_FOUND, "unknown path")
    }

    async fn next(&self) -> Response<Full<Bytes>> {
        if let Ok(mut first) = self.first_next.lock() {
            first.get_or_insert_with(Instant::now);
        }
        self.sample_cpu_once(&self.first_next_cpu_ns);
        let invocation = {
            let mut waiting = self.waiting.lock().await;
            waiting.recv().await
        };
        let Some(inv) = invocation else {
            return plain(StatusCode::GONE, "shutting down");
        };
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(inv.request_id.clone(), (inv.reply, Instant::now()));
        }
        let deadline = epoch_millis() + 30_000;
        let arn = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            self.name
        );
        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", inv.request_id.as_str())
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header("lambda-runtime-invoked-function-arn", arn)
            .header(
                "lambda-runtime-trace-id",
                format!(
                    "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
                    epoch_millis() / 1000,
                    epoch_millis(),
                    epoch_millis()
                ),
            )
            .body(Full::new(inv.event))
            .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "bad response"))
    }
}

/// The HTTP API stand-in: routes `/scim/v2/...` like the SAM template (and the workspace's
/// `cargo lambda watch` router) and answers with what the function returned.
pub struct Gateway {
    pub users: Arc<RuntimeApi>,
    pub groups: Arc<RuntimeApi>,
    pub discovery: Arc<RuntimeApi>,
    pub timeout: Duration,
}

/// Response header carrying the function's handler time (µs) for the invocation behind it.
pub const HANDLER_HEADER: &str = "x-bench-handler-us";

impl Gateway {
    pub fn function_for(&self, path: &str) -> &Arc<RuntimeApi> {
        let family = |prefix: &str| {
            path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/') && rest[1..].split('/').count() == 1)
        };
        if family("/scim/v2/Users") {
            &self.users
        } else if family("/scim/v2/Groups") {
            &self.groups
        } else {
            &self.discovery
        }
    }

    /// Serves the gateway on `addr` until the process ends.
    pub async fn serve(self: Arc<Self>, addr: SocketAddr) -> anyhow::Result<SocketAddr> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the gateway on {addr}"))?;
        let bound = listener.local_addr()?;
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                let gw = Arc::clone(&self);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let gw = Arc::clone(&gw);
                        async move { Ok::<_, Infallible>(gw.handle(req, peer, bound).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(bound)
    }

    async fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        bound: SocketAddr,
    ) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return plain(StatusCode::BAD_REQUEST, "unreadable body"),
        };
        let function = self.function_for(parts.uri.path());
        let event = event::http_api_v2(&parts, &body, peer, bound);
        let outcome = match function.invoke(event, self.timeout).await {
            Ok(o) => o,
            Err(e) => return plain(StatusCode::GATEWAY_TIMEOUT, &e.to_string()),
        };
        match outcome {
            Outcome::Response { body, handler } => match event::decode_response(&body) {
                Ok(mut resp) => {
                    if let Ok(v) = handler.as_micros().to_string().parse() {
                        resp.headers_mut().insert(HANDLER_HEADER, v);
                    }
                    resp
                }
                Err(e) => plain(
                    StatusCode::BAD_GATEWAY,
                    &format!("bad function answer: {e}"),
                ),
            },
            Outcome::Error { body, .. } => plain(
                StatusCode::BAD_GATEWAY,
                &format!("function error: {}", String::from_utf8_lossy(&body)),
            ),
        }
    }
}

async fn collect(req: Request<Incoming>) -> Bytes {
    match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    }
}

fn accepted() -> Response<Full<Bytes>> {
    let body = Value::Object(Map::from_iter([("status".to_string(), json!("OK"))]));
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = StatusCode::ACCEPTED;
    resp
}

pub(crate) fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(text.to_string())));
    *resp.status_mut() = status;
    resp
}

pub(crate) fn epoch_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}
