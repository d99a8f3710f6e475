//! Per-operation summaries of a phase's samples.

use serde_json::{json, Value};

use crate::workload::Phase;

/// What the report says about one operation type on one target.
#[derive(Debug, Clone)]
pub struct OpSummary {
    pub op: String,
    pub what: String,
    pub count: usize,
    pub errors: usize,
    pub first_errors: Vec<String>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub throughput: f64,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub cpu_s_per_1000: f64,
    /// DynamoDB calls by the handler: min, mean, max (ours only).
    pub calls: Option<(u64, f64, u64)>,
    /// Requests whose token check reached DynamoDB (cache miss), and the calls it made.
    pub auth_misses: usize,
    pub auth_calls: u64,
    /// Mean capacity units the local DynamoDB reported, over warm-token requests.
    pub capacity_mean: Option<f64>,
    /// Handler time (runtime API emulator): median and mean, ms.
    pub handler_ms: Option<(f64, f64)>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn summarize(phase: &Phase) -> OpSummary {
    let s = &phase.samples;
    let mut lat: Vec<f64> = s.iter().map(|x| x.latency.as_secs_f64() * 1000.0).collect();
    lat.sort_by(f64::total_cmp);
    let count = s.len();
    let errors = s.iter().filter(|x| !x.ok).count();
    let calls: Vec<u64> = s.iter().filter_map(|x| x.calls).collect();
    let calls = (!calls.is_empty()).then(|| {
        let min = calls.iter().copied().min().unwrap_or(0);
        let max = calls.iter().copied().max().unwrap_or(0);
        (
            min,
            calls.iter().sum::<u64>() as f64 / calls.len() as f64,
            max,
        )
    });
    let auth_misses = s.iter().filter(|x| x.auth_calls.unwrap_or(0) > 0).count();
    let auth_calls = s.iter().filter_map(|x| x.auth_calls).sum();
    let warm_capacity: Vec<f64> = s
        .iter()
        .filter(|x| x.auth_calls == Some(0))
        .filter_map(|x| x.capacity)
        .collect();
    let capacity_mean = (!warm_capacity.is_empty())
        .then(|| warm_capacity.iter().sum::<f64>() / warm_capacity.len() as f64);
    let mut handler: Vec<f64> = s
        .iter()
        .filter_map(|x| x.handler)
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    handler.sort_by(f64::total_cmp);
    let handler_ms = (!handler.is_empty()).then(|| {
        (
            percentile(&handler, 50.0),
            handler.iter().sum::<f64>() / handler.len() as f64,
        )
    });
    let wall_s = phase.wall.as_secs_f64();
    OpSummary {
        op: phase.op.clone(),
        what: phase.what.clone(),
        count,
        errors,
        first_errors: s.iter().filter_map(|x| x.error.clone()).take(3).collect(),
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
        mean_ms: if count > 0 {
            lat.iter().sum::<f64>() / count as f64
        } else {
            0.0
        },
        throughput: if wall_s > 0.0 {
            count as f64 / wall_s
        } else {
            0.0
        },
        wall_s,
        cpu_s: phase.cpu_seconds,
        cpu_s_per_1000: if count > 0 {
            phase.cpu_seconds * 1000.0 / count as f64
        } else {
            0.0
        },
        calls,
        auth_misses,
        auth_calls,
        capacity_mean,
        handler_ms,
    }
}

impl OpSummary {
    pub fn to_json(&self) -> Value {
        json!({
            "op": self.op,
            "what": self.what,
            "count": self.count,
            "errors": self.errors,
            "first_errors": self.first_errors,
            "latency_ms": {"p50": round(self.p50_ms, 2), "p99": round(self.p99_ms, 2), "mean": round(self.mean_ms, 2)},
            "throughput_per_s": round(self.throughput, 2),
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "cpu_s_per_1000_ops": round(self.cpu_s_per_1000, 4),
            "dynamodb_calls": self.calls.map(|(min, avg, max)| json!({"min": min, "avg": round(avg, 3), "max": max})),
            "token_check": {"requests_with_cache_miss": self.auth_misses, "dynamodb_calls": self.auth_calls},
            "local_reported_capacity_mean": self.capacity_mean.map(|c| round(c, 3)),
            "handler_ms": self.handler_ms.map(|(p50, mean)| json!({"p50": round(p50, 2), "mean": round(mean, 2)})),
        })
    }
}

pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
