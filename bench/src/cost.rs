//! The AWS cost model per 1M operations: Lambda arm64 at 128 MB, DynamoDB on-demand, HTTP API.
//!
//! Prices are us-east-1 list prices, read 2026-11-23 (see docs/PERFORMANCE.md for the sources).
//! Capacity units are modelled from the data model (docs/DATA-MODEL.md) and the item sizes the
//! run measured, because the local DynamoDB stand-in (moto) reports fixed placeholder capacity
//! (0.5 or 1 per call, nothing for transactions).

use serde_json::{json, Value};

use crate::stats::{round, OpSummary};

/// USD per GB-second, Lambda on Arm (first 7.5 billion GB-s a month).
pub const LAMBDA_ARM_GB_S: f64 = 0.000_013_333_4;
/// USD per Lambda request.
pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
/// USD per HTTP API request (first 300 million a month, up to 512 KB each).
pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
/// USD per on-demand write request unit.
pub const DYNAMODB_WRU: f64 = 0.625 / 1e6;
/// USD per on-demand read request unit.
pub const DYNAMODB_RRU: f64 = 0.125 / 1e6;
/// Lambda memory in the cost model and the template.
pub const MEMORY_MB: f64 = 128.0;
/// Memory at which a function has one full vCPU; CPU share scales linearly with memory.
pub const FULL_VCPU_MB: f64 = 1769.0;
/// Assumed DynamoDB round trip from Lambda in the same region (AWS quotes single-digit ms).
pub const DYNAMODB_RTT_MS: f64 = 7.5;

/// Read and write request units one operation consumes in DynamoDB, by the data model.
/// `user_kb`: a user item's size rounded up to whole KB; `members`: members in a group PATCH.
pub fn capacity_units(op: &str, user_kb: f64, members: f64) -> Option<(f64, f64, &'static str)> {
    // Strongly consistent read of an item up to 4 KB: 1 RRU; eventually consistent (GSI) 0.5.
    // Write: 1 WRU per KB; inside TransactWriteItems every item costs twice.
    let tx = |items_kb: f64| 2.0 * items_kb;
    Some(match op {
        "okta.lookup_userName" | "entra.lookup_userName" => {
            (0.5, 0.0, "Query on gsi1 (eventually consistent), no item")
        }
        "entra.lookup_externalId" => (1.0, 0.0, "GetItem on the externalId guard (absent)"),
        "user.get" => (1.0, 0.0, "GetItem, strongly consistent, item < 4 KB"),
        op if op == "okta.create" || op == "bulk.create" || is_docsize(op, "create") => (
            0.0,
            tx(user_kb + 1.0 + 1.0),
            "transaction: user item, userName guard, email index item",
        ),
        "entra.create" => (
            0.0,
            tx(user_kb + 1.0 + 1.0 + 1.0),
            "transaction: user item, userName and externalId guards, email index item",
        ),
        "okta.put" => (
            1.0,
            user_kb,
            "GetItem, then conditional PutItem of the user item",
        ),
        "okta.deactivate" => (0.0, user_kb, "conditional UpdateItem of the user item"),
        "entra.patch" => (
            1.0,
            tx(user_kb + 1.0 + 1.0),
            "GetItem, then a transaction: user item, old email index item deleted, new one put",
        ),
        "entra.group_lookup" => (0.5, 0.0, "Query on gsi1 (eventually consistent), no item"),
        "entra.group_create" => (
            0.0,
            tx(1.0 + 1.0 + 1.0),
            "transaction: group item, displayName and externalId guards",
        ),
        op if op == "entra.members_add"
            || op.starts_with("group.add_members_k")
            || is_docsize(op, "members_add") =>
        {
            (
                // More than 49 members: every added user is read first (BatchGetItem).
                1.0 + if members > 49.0 { members } else { 0.0 },
                tx(1.0 + members * (1.0 + user_kb)),
                "GetItem of the group; over 49 members each added user read; transactions: the \
                 group item, and per member the membership item and the user's group_ids",
            )
        }
        op if op.starts_with("paging.import_") => (
            // The count Query is strongly consistent (1 RRU for its 16 small items); the
            // position GetItem and the gsi1 page are eventually consistent: 0.5 RRU per 4 KB.
            1.0 + 0.5 + 0.5 * (PAGE_USERS * user_kb / 4.0).ceil(),
            1.0,
            "Query of the count shards (consistent), GetItem of where the previous page ended, \
             Query of the page (100 users on gsi1), PutItem of where this page ends",
        ),
        "entra.members_remove" => (
            1.0,
            tx(1.0 + members * (1.0 + user_kb)),
            "GetItem of the group; a transaction: the group item, the membership item deleted, \
             the user's group_ids",
        ),
        _ => return None,
    })
}

/// Users on one import page (`paging.import_*`).
const PAGE_USERS: f64 = 100.0;

/// `docsize_<n>kb.<what>`: the document-size phases.
fn is_docsize(op: &str, what: &str) -> bool {
    op.strip_prefix("docsize_")
        .and_then(|rest| rest.split_once("kb."))
        .is_some_and(|(_, w)| w == what)
}

/// Cost per 1M operations of one operation type, from its measured CPU time and DynamoDB calls.
pub fn per_million(summary: &OpSummary, user_kb: f64, members: f64) -> Option<Value> {
    let (rru, wru, how) = capacity_units(&summary.op, user_kb, members)?;
    let calls = summary.calls.map(|(_, avg, _)| avg).unwrap_or(0.0);
    let cpu_ms = if summary.count > 0 {
        summary.cpu_s * 1000.0 / summary.count as f64
    } else {
        0.0
    };
    // At 128 MB a function gets 128/1769 of a vCPU, so CPU work takes 13.8x as long as on a
    // full core; each DynamoDB call adds a round trip.
    let cpu_at_128 = cpu_ms * FULL_VCPU_MB / MEMORY_MB;
    let billed_ms = (cpu_at_128 + calls * DYNAMODB_RTT_MS).ceil().max(1.0);
    let lambda_duration = billed_ms / 1000.0 * (MEMORY_MB / 1024.0) * LAMBDA_ARM_GB_S * 1e6;
    let lambda_requests = LAMBDA_REQUEST * 1e6;
    let http_api = HTTP_API_REQUEST * 1e6;
    let dynamodb = (rru * DYNAMODB_RRU + wru * DYNAMODB_WRU) * 1e6;
    let total = lambda_duration + lambda_requests + http_api + dynamodb;
    Some(json!({
        "op": summary.op,
        "cpu_ms_per_op_full_core": round(cpu_ms, 3),
        "cpu_ms_per_op_at_128mb": round(cpu_at_128, 2),
        "dynamodb_calls": round(calls, 3),
        "billed_ms": billed_ms,
        "rru": rru,
        "wru": wru,
        "capacity_model": how,
        "usd_per_million": {
            "lambda_duration": round(lambda_duration, 3),
            "lambda_requests": round(lambda_requests, 3),
            "http_api": round(http_api, 3),
            "dynamodb": round(dynamodb, 3),
            "total": round(total, 3),
        }
    }))
}

pub fn prices() -> Value {
    json!({
        "region": "us-east-1",
        "read": "2026-11-23",
        "lambda_arm_usd_per_gb_s": LAMBDA_ARM_GB_S,
        "lambda_usd_per_million_requests": LAMBDA_REQUEST * 1e6,
        "http_api_usd_per_million_requests": HTTP_API_REQUEST * 1e6,
        "dynamodb_on_demand_usd_per_million_wru": DYNAMODB_WRU * 1e6,
        "dynamodb_on_demand_usd_per_million_rru": DYNAMODB_RRU * 1e6,
        "memory_mb": MEMORY_MB,
        "full_vcpu_mb": FULL_VCPU_MB,
        "assumed_dynamodb_round_trip_ms": DYNAMODB_RTT_MS,
    })
}

#[cfg(test)]
mod tests {
    use super::capacity_units;

    #[test]
    fn a_membership_change_is_modelled_with_the_size_of_the_members_documents() {
        let wru = |op: &str, kb: f64| capacity_units(op, kb, 20.0).map(|(_, w, _)| w);
        // Each member rewrites the user's item, so 50 KB members cost far more than 2 KB ones.
        let (small, large) = (
            wru("docsize_2kb.members_add", 2.0),
            wru("docsize_50kb.members_add", 50.0),
        );
        assert_eq!(small, Some(2.0 * (1.0 + 20.0 * 3.0)));
        assert_eq!(large, Some(2.0 * (1.0 + 20.0 * 51.0)));
        assert_eq!(wru("docsize_50kb.create", 50.0), Some(2.0 * 52.0));
        assert_eq!(wru("docsize_50kb.other", 50.0), None);
    }

    #[test]
    fn an_import_page_reads_its_hundred_users_and_writes_one_position() {
        let (rru, wru, _) = capacity_units("paging.import_10000", 2.0, 0.0).unwrap_or_default();
        assert_eq!((rru, wru), (1.0 + 0.5 + 0.5 * 50.0, 1.0));
    }
}
