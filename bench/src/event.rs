//! API Gateway HTTP API (payload format 2.0) events in, function responses out, as API Gateway
//! builds and reads them.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http_body_util::Full;
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use serde_json::{json, Map, Value};

use crate::emulator::epoch_millis;

/// The event API Gateway sends for one HTTP request (`$default` route, stage `$default`).
pub fn http_api_v2(parts: &Parts, body: &[u8], peer: SocketAddr, host: SocketAddr) -> Bytes {
    let path = parts.uri.path();
    let raw_query = parts.uri.query().unwrap_or("");
    // Header names lowercased, repeated headers joined with commas, cookies apart.
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &parts.headers {
        let Ok(value) = value.to_str() else { continue };
        headers
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push(',');
                v.push_str(value);
            })
            .or_insert_with(|| value.to_string());
    }
    let cookies: Vec<String> = headers
        .remove("cookie")
        .map(|c| c.split("; ").map(str::to_string).collect())
        .unwrap_or_default();
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query
            .entry(percent_decode(k))
            .and_modify(|old| {
                old.push(',');
                old.push_str(&percent_decode(v));
            })
            .or_insert_with(|| percent_decode(v));
    }
    let now = epoch_millis();
    let host_header = headers
        .get("host")
        .cloned()
        .unwrap_or_else(|| host.to_string());
    let user_agent = headers.get("user-agent").cloned().unwrap_or_default();
    let (body_value, is_base64) = match std::str::from_utf8(body) {
        Ok(text) => (json!(text), false),
        Err(_) => (json!(base64_encode(body)), true),
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": host_header,
            "domainPrefix": "bench",
            "http": {
                "method": parts.method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": format!("bench{now}"),
            "routeKey": "$default",
            "stage": "$default",
            "time": "",
            "timeEpoch": now as u64,
        },
        "isBase64Encoded": is_base64,
    });
    if let Value::Object(map) = &mut event {
        if !query.is_empty() {
            map.insert("queryStringParameters".into(), json!(query));
        }
        if !cookies.is_empty() {
            map.insert("cookies".into(), json!(cookies));
        }
        if !body.is_empty() {
            map.insert("body".into(), body_value);
        }
    }
    Bytes::from(event.to_string())
}

/// Turns the function's `ApiGatewayV2httpResponse` JSON into the HTTP response API Gateway sends.
pub fn decode_response(raw: &[u8]) -> anyhow::Result<Response<Full<Bytes>>> {
    let value: Value = serde_json::from_slice(raw).context("response is not JSON")?;
    let obj = value
        .as_object()
        .ok_or_else(|| anyhow!("response is not an object"))?;
    let status = obj
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| anyhow!("no statusCode"))?;
    let mut builder = Response::builder().status(StatusCode::from_u16(status)?);
    let empty = Map::new();
    let headers = obj
        .get("headers")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, value) in headers {
        if let Some(v) = value.as_str() {
            builder = builder.header(name.as_str(), v);
        }
    }
    let multi = obj
        .get("multiValueHeaders")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, values) in multi {
        if headers.contains_key(name) {
            continue;
        }
        for v in values
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            builder = builder.header(name.as_str(), v);
        }
    }
    let text = obj.get("body").and_then(Value::as_str).unwrap_or("");
    if obj
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return Err(anyhow!(
            "base64 bodies are not expected from these functions"
        ));
    }
    Ok(builder.body(Full::new(Bytes::from(text.to_string())))?)
}

/// `%XX` decoding as API Gateway applies it to query parameters (`+` is kept).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trip() {
        let filter = "userName eq \"a+b@x.com\"";
        assert_eq!(percent_decode(&percent_encode(filter)), filter);
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%41%"), "A%");
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
    }
}
