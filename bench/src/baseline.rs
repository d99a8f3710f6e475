//! The run against the committed baseline (`bench/results/baseline.json`): per operation of
//! ours, CPU per 1,000 operations, DynamoDB calls and latency, before and now, so `make bench`
//! shows what a change did. The baseline moves only when someone commits a new one
//! (`make bench-baseline` copies the latest run over it).

use std::fmt::Write as _;

use serde_json::{json, Value};

/// An operation's numbers in a results JSON (`ours.ops[]`).
fn ops(results: &Value) -> Vec<&Value> {
    results["ours"]["ops"]
        .as_array()
        .map(|ops| ops.iter().collect())
        .unwrap_or_default()
}

fn change(before: Option<f64>, now: Option<f64>) -> Option<f64> {
    match (before, now) {
        (Some(b), Some(n)) if b > 0.0 => Some((n - b) / b * 100.0),
        _ => None,
    }
}

/// Per operation of `current`: the baseline's and the current CPU per 1,000 operations, mean
/// DynamoDB calls and p50 latency, with the CPU change in percent. Operations the baseline
/// lacks have no "before".
pub fn compare(current: &Value, baseline: &Value) -> Value {
    let before = ops(baseline);
    let rows: Vec<Value> = ops(current)
        .into_iter()
        .map(|now| {
            let op = now["op"].as_str().unwrap_or_default();
            let old = before.iter().find(|b| b["op"] == op);
            let cpu = |v: Option<&&Value>| v.and_then(|v| v["cpu_s_per_1000_ops"].as_f64());
            let calls = |v: Option<&&Value>| v.and_then(|v| v["dynamodb_calls"]["avg"].as_f64());
            let p50 = |v: Option<&&Value>| v.and_then(|v| v["latency_ms"]["p50"].as_f64());
            let now_ref = Some(&now);
            json!({
                "op": op,
                "cpu_s_per_1000": {"before": cpu(old), "now": cpu(now_ref)},
                "cpu_change_percent": change(cpu(old), cpu(now_ref)).map(|c| (c * 10.0).round() / 10.0),
                "dynamodb_calls_avg": {"before": calls(old), "now": calls(now_ref)},
                "p50_ms": {"before": p50(old), "now": p50(now_ref)},
            })
        })
        .collect();
    json!({
        "commit": baseline["environment"]["git_commit"],
        "date_utc": baseline["environment"]["date_utc"],
        "ops": rows,
    })
}

fn cell(v: &Value, digits: usize) -> String {
    v.as_f64()
        .map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// The comparison as a Markdown table.
pub fn table(comparison: &Value) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "\n## Against the baseline (commit {}, {})\n",
        comparison["commit"].as_str().unwrap_or("?"),
        comparison["date_utc"].as_str().unwrap_or("?")
    );
    let _ = writeln!(
        t,
        "| operation | CPU s per 1k before / now | change | DynamoDB calls before / now | p50 ms before / now |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|---:|");
    for row in comparison["ops"].as_array().into_iter().flatten() {
        let change = row["cpu_change_percent"]
            .as_f64()
            .map(|c| format!("{c:+.1}%"))
            .unwrap_or_else(|| "new".into());
        let _ = writeln!(
            t,
            "| {} | {} / {} | {} | {} / {} | {} / {} |",
            row["op"].as_str().unwrap_or(""),
            cell(&row["cpu_s_per_1000"]["before"], 3),
            cell(&row["cpu_s_per_1000"]["now"], 3),
            change,
            cell(&row["dynamodb_calls_avg"]["before"], 2),
            cell(&row["dynamodb_calls_avg"]["now"], 2),
            cell(&row["p50_ms"]["before"], 1),
            cell(&row["p50_ms"]["now"], 1),
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(commit: &str, ops: Value) -> Value {
        json!({"environment": {"git_commit": commit, "date_utc": "2026-12-05T00:00:00Z"}, "ours": {"ops": ops}})
    }

    #[test]
    fn each_operation_is_set_against_its_baseline_and_new_ones_are_marked() {
        let baseline = run(
            "abc",
            json!([{"op": "user.get", "cpu_s_per_1000_ops": 0.5, "dynamodb_calls": {"avg": 1.0}, "latency_ms": {"p50": 4.0}}]),
        );
        let current = run(
            "def",
            json!([
                {"op": "user.get", "cpu_s_per_1000_ops": 0.4, "dynamodb_calls": {"avg": 1.0}, "latency_ms": {"p50": 3.0}},
                {"op": "paging.import_1000", "cpu_s_per_1000_ops": 2.0, "dynamodb_calls": {"avg": 3.0}, "latency_ms": {"p50": 9.0}}
            ]),
        );
        let c = compare(&current, &baseline);
        assert_eq!(c["commit"], "abc");
        assert_eq!(c["ops"][0]["cpu_change_percent"], -20.0);
        assert_eq!(c["ops"][1]["cpu_change_percent"], Value::Null);
        let text = table(&c);
        assert!(
            text.contains("| user.get | 0.500 / 0.400 | -20.0% | 1.00 / 1.00 | 4.0 / 3.0 |"),
            "{text}"
        );
        assert!(
            text.contains("| paging.import_1000 | - / 2.000 | new |"),
            "{text}"
        );
    }
}
