//! HTTP (CONTRACTS §4): `/metrics`, `/healthz`, `/readyz`, `/api/v1/status`,
//! `/api/v1/alerts`, `/api/v1/events` (SSE) and the status page at `/`. With a bearer
//! token configured, `/api/*` needs `Authorization: Bearer TOKEN` (or `?access_token=TOKEN`,
//! for the page's EventSource which cannot set headers).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::{Shared, SseItem};

const PAGE: &str = include_str!("page.html");

pub(crate) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut stop = shared.shutdown_tx.subscribe();
    let app = router(shared);
    let r = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await;
    if let Err(e) = r {
        tracing::error!(error = %e, "HTTP server failed");
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/events", get(events))
        .route_layer(middleware::from_fn_with_state(shared.clone(), auth));
    Router::new()
        .route("/", get(page))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api)
        .with_state(shared)
}

fn eq_const_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let Some(token) = &s.token else {
        return next.run(req).await;
    };
    let header_ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| eq_const_time(t.trim().as_bytes(), token.as_bytes()));
    let query_ok = req.uri().query().is_some_and(|q| {
        q.split('&')
            .filter_map(|kv| kv.strip_prefix("access_token="))
            .any(|t| eq_const_time(t.as_bytes(), token.as_bytes()))
    });
    if header_ok || query_ok {
        next.run(req).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "bearer token required\n",
        )
            .into_response()
    }
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn metrics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
}

async fn healthz(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    if !s.dsp_failed.load(Ordering::Acquire) {
        (StatusCode::OK, "ok\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "pipeline thread stopped\n".to_owned(),
        )
    }
}

async fn readyz(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    match s.readiness() {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

async fn status(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let m = &s.metrics;
    let st = s.status.lock().map(|g| g.clone()).unwrap_or_default();
    let active = s.active.lock().map(|g| g.clone()).unwrap_or_default();
    let alert_cfg = s.alert_cfg.lock().map(|g| *g).unwrap_or_default();
    let info = s.capture.info();
    let drop = |r: &str| m.capture_dropped.with_label_values(&[r]).get();
    let ready = s.readiness();
    let finished = s.dsp_finished_s.lock().ok().and_then(|g| *g);
    axum::Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": s.started.elapsed().as_secs_f64(),
        "ready": ready.is_ok(),
        "not_ready_reason": ready.err(),
        "source": {
            "info": info,
            "state": s.capture.state(),
            "last_error": s.capture.last_error(),
        },
        "sample_rate_hz": info.as_ref().map(|i| i.sample_rate_hz),
        "center_freq_hz": info.as_ref().and_then(|i| i.center_freq_hz),
        "cells": st.cells,
        "alert": {
            "active": active,
            "raise_k": alert_cfg.raise_k,
            "raise_n": alert_cfg.raise_n,
            "clear_m": alert_cfg.clear_m,
            "raise_same_index": alert_cfg.raise_same_index,
        },
        "models": models(&s),
        "samples": {
            "captured": m.capture_samples.get(),
            "processed": m.pipeline_samples.get(),
            "discontinuities": m.pipeline_discontinuities.get(),
        },
        "stream": s.stream.lock().map(|g| *g).unwrap_or_default(),
        "pipeline": {
            "state": if s.dsp_failed.load(Ordering::Acquire) {
                "failed"
            } else if finished.is_some() {
                "finished"
            } else {
                "running"
            },
            "finished_uptime_s": finished,
            "busy_s": m.pipeline_busy.get(),
        },
        "drops": {
            "queue_full": drop("queue_full"),
            "overflow": drop("overflow"),
            "bad_data": drop("bad_data"),
            "overflow_reports": m.capture_overflows.get(),
            "timeouts": m.capture_timeouts.get(),
            "device_losses": m.source_losses.get(),
        },
    }))
}

/// The detector and, for a model, where its card is and which feature schema it was
/// checked against at start.
fn models(s: &Shared) -> serde_json::Value {
    let versions = match &s.models {
        Some(m) => json!({
            s.detector.clone(): {
                "card": m.path(&format!("{}.json", s.detector)).display().to_string(),
                "feature_schema_version": crate::features::SCHEMA_VERSION,
            }
        }),
        None => json!({}),
    };
    json!({ "detector": s.detector, "versions": versions })
}

async fn alerts(State(s): State<Arc<Shared>>, headers: HeaderMap) -> impl IntoResponse {
    let _ = headers;
    let list: Vec<_> = s
        .alerts
        .lock()
        .map(|g| g.iter().cloned().collect())
        .unwrap_or_default();
    let active = s.active.lock().map(|g| g.clone()).unwrap_or_default();
    axum::Json(json!({ "alerts": list, "active": active }))
}

struct ClientGuard(Arc<Shared>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.metrics.sse_clients.dec();
    }
}

async fn events(
    State(s): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = s.events.subscribe();
    let stop = s.shutdown_tx.subscribe();
    s.metrics.sse_clients.inc();
    let guard = ClientGuard(s.clone());
    let stream =
        futures_util::stream::unfold((rx, stop, guard), |(mut rx, mut stop, guard)| async move {
            loop {
                let item: Arc<SseItem> = tokio::select! {
                    r = rx.recv() => match r {
                        Ok(item) => item,
                        Err(RecvError::Lagged(n)) => {
                            guard.0.metrics.events_dropped.with_label_values(&["sse"]).inc_by(n);
                            continue;
                        }
                        Err(RecvError::Closed) => return None,
                    },
                    _ = stop.wait_for(|s| *s) => return None,
                };
                let ev = SseEvent::default().event(item.name).data(&item.json);
                return Some((Ok(ev), (rx, stop, guard)));
            }
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
