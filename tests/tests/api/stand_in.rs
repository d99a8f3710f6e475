//! The local DynamoDB stand-in refuses what DynamoDB refuses (`scripts/dynamodb_limits.py`), so
//! a request AWS would reject fails locally too instead of passing every test: batches and
//! transactions over their limits, two operations on one item, an item over 400 KB, an empty
//! key, a Query filter on a key attribute. Each request goes straight to the stand-in through
//! the SDK; each refusal is DynamoDB's `ValidationException` and writes nothing.
//!
//! Every test writes only its own partition (`STANDIN#<unique>`), so they run beside the others.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, Get, KeysAndAttributes, Put, PutRequest,
    TransactGetItem, TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use integration_tests::store::{dynamodb, runtime};
use integration_tests::unique;
use tokio::runtime::Runtime;

/// DynamoDB's largest item: 400 KB of attribute names and values (UTF-8).
const MAX_ITEM_BYTES: usize = 400 * 1024;

struct StandIn {
    rt: Runtime,
    client: Client,
    table: String,
    /// This test's own partition key.
    pk: String,
}

impl StandIn {
    fn new() -> Self {
        let rt = runtime();
        let (client, table) = dynamodb(&rt);
        Self {
            rt,
            client,
            table,
            pk: format!("STANDIN#{}", unique("limits")),
        }
    }

    fn key(&self, sk: &str) -> std::collections::HashMap<String, AttributeValue> {
        [("pk".to_string(), s(&self.pk)), ("sk".to_string(), s(sk))].into()
    }

    /// An item of this test's partition with `payload` bytes in one attribute.
    fn item(&self, sk: &str, payload: usize) -> std::collections::HashMap<String, AttributeValue> {
        let mut item = self.key(sk);
        item.insert("doc".into(), s(&"x".repeat(payload)));
        item
    }

    fn put(&self, sk: &str, payload: usize) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.item(sk, payload)))
            .build()
            .unwrap();
        TransactWriteItem::builder().put(put).build()
    }

    fn put_request(&self, sk: &str) -> WriteRequest {
        let put = PutRequest::builder()
            .set_item(Some(self.item(sk, 10)))
            .build()
            .unwrap();
        WriteRequest::builder().put_request(put).build()
    }

    /// How many items this test's partition holds.
    fn stored(&self) -> usize {
        let out = self
            .rt
            .block_on(
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(&self.pk))
                    .consistent_read(true)
                    .send(),
            )
            .expect("query the test's partition");
        out.items().len()
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

/// The message of DynamoDB's ValidationException, which `result` must be.
fn validation_message<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> String {
    let err = result.expect_err("DynamoDB refuses this request");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    err.message().unwrap_or_default().to_string()
}

#[test]
fn a_batch_write_of_26_items_is_refused_and_writes_nothing() {
    let db = StandIn::new();
    let writes: Vec<WriteRequest> = (0..26).map(|i| db.put_request(&format!("i{i}"))).collect();
    let message = validation_message(
        db.rt.block_on(
            db.client
                .batch_write_item()
                .request_items(&db.table, writes)
                .send(),
        ),
    );
    assert!(
        message.contains("Member must have length less than or equal to 25"),
        "{message}"
    );
    assert_eq!(db.stored(), 0);
}

#[test]
fn a_batch_write_of_25_items_is_accepted() {
    let db = StandIn::new();
    let writes: Vec<WriteRequest> = (0..25).map(|i| db.put_request(&format!("i{i}"))).collect();
    let out = db
        .rt
        .block_on(
            db.client
                .batch_write_item()
                .request_items(&db.table, writes)
                .send(),
        )
        .unwrap();
    assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
    assert_eq!(db.stored(), 25);
}

#[test]
fn a_batch_write_naming_one_item_twice_is_refused_and_writes_nothing() {
    let db = StandIn::new();
    let delete = DeleteRequest::builder()
        .set_key(Some(db.key("same")))
        .build()
        .unwrap();
    let writes = vec![
        db.put_request("other"),
        db.put_request("same"),
        WriteRequest::builder().delete_request(delete).build(),
    ];
    let message = validation_message(
        db.rt.block_on(
            db.client
                .batch_write_item()
                .request_items(&db.table, writes)
                .send(),
        ),
    );
    assert_eq!(message, "Provided list of item keys contains duplicates");
    assert_eq!(db.stored(), 0);
}

#[test]
fn a_batch_get_of_101_keys_is_refused() {
    let db = StandIn::new();
    let keys = KeysAndAttributes::builder()
        .set_keys(Some((0..101).map(|i| db.key(&format!("i{i}"))).collect()))
        .build()
        .unwrap();
    let message = validation_message(
        db.rt.block_on(
            db.client
                .batch_get_item()
                .request_items(&db.table, keys)
                .send(),
        ),
    );
    assert!(
        message.contains("Member must have length less than or equal to 100"),
        "{message}"
    );
}

#[test]
fn a_batch_get_naming_one_key_twice_is_refused() {
    let db = StandIn::new();
    let keys = KeysAndAttributes::builder()
        .set_keys(Some(vec![db.key("same"), db.key("same")]))
        .build()
        .unwrap();
    let message = validation_message(
        db.rt.block_on(
            db.client
                .batch_get_item()
                .request_items(&db.table, keys)
                .send(),
        ),
    );
    assert_eq!(message, "Provided list of item keys contains duplicates");
}

#[test]
fn a_transaction_of_101_actions_is_refused_and_writes_nothing() {
    let db = StandIn::new();
    let items: Vec<TransactWriteItem> = (0..101).map(|i| db.put(&format!("i{i}"), 10)).collect();
    let message = validation_message(
        db.rt.block_on(
            db.client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send(),
        ),
    );
    assert!(
        message.contains("Member must have length less than or equal to 100"),
        "{message}"
    );
    assert_eq!(db.stored(), 0);
}

#[test]
fn a_transaction_with_two_actions_on_one_item_is_refused_and_writes_nothing() {
    let db = StandIn::new();
    let update = Update::builder()
        .table_name(&db.table)
        .set_key(Some(db.key("same")))
        .update_expression("SET n = :n")
        .expression_attribute_values(":n", AttributeValue::N("1".into()))
        .build()
        .unwrap();
    let items = vec![
        db.put("other", 10),
        db.put("same", 10),
        TransactWriteItem::builder().update(update).build(),
    ];
    let message = validation_message(
        db.rt.block_on(
            db.client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send(),
        ),
    );
    assert_eq!(
        message,
        "Transaction request cannot include multiple operations on one item"
    );
    assert_eq!(db.stored(), 0);
}

#[test]
fn a_transaction_over_4_mb_is_refused_and_writes_nothing() {
    let db = StandIn::new();
    // Eleven items of 390 KB: each one within the item limit, 4.2 MiB together.
    let items: Vec<TransactWriteItem> = (0..11)
        .map(|i| db.put(&format!("i{i}"), 390 * 1024))
        .collect();
    let message = validation_message(
        db.rt.block_on(
            db.client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send(),
        ),
    );
    assert!(message.contains("4 MB"), "{message}");
    assert_eq!(db.stored(), 0);
}

#[test]
fn an_item_over_400_kb_is_refused_by_put_batch_and_transaction_and_nothing_is_written() {
    let db = StandIn::new();
    // Attribute names count: "pk", "sk" and "doc" plus their values make it one byte too many.
    let fixed = "pk".len() + db.pk.len() + "sk".len() + "big".len() + "doc".len();
    let too_big = MAX_ITEM_BYTES - fixed + 1;
    let refused = "Item size has exceeded the maximum allowed size";

    let put = db.rt.block_on(
        db.client
            .put_item()
            .table_name(&db.table)
            .set_item(Some(db.item("big", too_big)))
            .send(),
    );
    assert_eq!(validation_message(put), refused);

    let batch = db.rt.block_on(
        db.client
            .batch_write_item()
            .request_items(
                &db.table,
                vec![WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(db.item("big", too_big)))
                            .build()
                            .unwrap(),
                    )
                    .build()],
            )
            .send(),
    );
    assert_eq!(validation_message(batch), refused);

    let transaction = db.rt.block_on(
        db.client
            .transact_write_items()
            .transact_items(db.put("small", 10))
            .transact_items(db.put("big", too_big))
            .send(),
    );
    assert_eq!(validation_message(transaction), refused);
    assert_eq!(db.stored(), 0);
}

#[test]
fn an_empty_key_value_is_refused_in_every_write_and_read() {
    let db = StandIn::new();
    let mut empty_sk = db.item("", 10);
    empty_sk.insert("sk".into(), s(""));
    let key_message = "The AttributeValue for a key attribute cannot contain an empty string value";

    let put = db.rt.block_on(
        db.client
            .put_item()
            .table_name(&db.table)
            .set_item(Some(empty_sk.clone()))
            .send(),
    );
    assert!(validation_message(put).contains(key_message));

    let get = db.rt.block_on(
        db.client
            .get_item()
            .table_name(&db.table)
            .set_key(Some(db.key("")))
            .send(),
    );
    assert!(validation_message(get).contains(key_message));

    let batch = db.rt.block_on(
        db.client
            .batch_write_item()
            .request_items(
                &db.table,
                vec![
                    db.put_request("fine"),
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(empty_sk.clone()))
                                .build()
                                .unwrap(),
                        )
                        .build(),
                ],
            )
            .send(),
    );
    assert!(validation_message(batch).contains(key_message));

    let delete = Delete::builder()
        .table_name(&db.table)
        .set_key(Some(db.key("")))
        .build()
        .unwrap();
    let transaction = db.rt.block_on(
        db.client
            .transact_write_items()
            .transact_items(db.put("fine", 10))
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .send(),
    );
    assert!(validation_message(transaction).contains(key_message));
    assert_eq!(db.stored(), 0);
}

#[test]
fn an_empty_index_key_value_is_refused_and_writes_nothing() {
    let db = StandIn::new();
    let mut item = db.item("indexed", 10);
    item.insert("gsi1pk".into(), s(""));
    item.insert("gsi1sk".into(), s("name"));
    let put = db.rt.block_on(
        db.client
            .put_item()
            .table_name(&db.table)
            .set_item(Some(item.clone()))
            .send(),
    );
    let message = validation_message(put);
    assert!(
        message.contains("A value specified for a secondary index key is not supported"),
        "{message}"
    );
    assert!(message.contains("IndexKey: gsi1pk"), "{message}");

    let put = Put::builder()
        .table_name(&db.table)
        .set_item(Some(item))
        .build()
        .unwrap();
    let transaction = db.rt.block_on(
        db.client
            .transact_write_items()
            .transact_items(db.put("fine", 10))
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send(),
    );
    let message = validation_message(transaction);
    assert!(message.contains("IndexKey: gsi1pk"), "{message}");
    assert_eq!(db.stored(), 0);
}

#[test]
fn a_query_filtering_on_a_key_attribute_is_refused() {
    let db = StandIn::new();
    let on_sort_key = db.rt.block_on(
        db.client
            .query()
            .table_name(&db.table)
            .key_condition_expression("pk = :pk")
            .filter_expression("begins_with(#sk, :prefix)")
            .expression_attribute_names("#sk", "sk")
            .expression_attribute_values(":pk", s(&db.pk))
            .expression_attribute_values(":prefix", s("MEMBER#"))
            .send(),
    );
    assert_eq!(
        validation_message(on_sort_key),
        "Filter Expression can only contain non-primary key attributes: \
         Primary key attribute: sk"
    );

    let on_index_key = db.rt.block_on(
        db.client
            .query()
            .table_name(&db.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pk")
            .filter_expression("gsi1sk > :from")
            .expression_attribute_values(":pk", s(&db.pk))
            .expression_attribute_values(":from", s("a"))
            .send(),
    );
    assert_eq!(
        validation_message(on_index_key),
        "Filter Expression can only contain non-primary key attributes: \
         Primary key attribute: gsi1sk"
    );
}

#[test]
fn a_query_filtering_on_other_attributes_is_accepted() {
    let db = StandIn::new();
    let out = db
        .rt
        .block_on(
            db.client
                .query()
                .table_name(&db.table)
                .key_condition_expression("pk = :pk")
                .filter_expression("begins_with(doc, :x) AND attribute_not_exists(#n.sk)")
                .expression_attribute_names("#n", "nested")
                .expression_attribute_values(":pk", s(&db.pk))
                .expression_attribute_values(":x", s("x"))
                .send(),
        )
        .unwrap();
    assert_eq!(out.count(), 0);
}

#[test]
fn a_transactional_read_takes_100_items_and_refuses_101() {
    let db = StandIn::new();
    let gets = |n: usize| -> Vec<TransactGetItem> {
        (0..n)
            .map(|i| {
                let get = Get::builder()
                    .table_name(&db.table)
                    .set_key(Some(db.key(&format!("i{i}"))))
                    .build()
                    .unwrap();
                TransactGetItem::builder().get(get).build()
            })
            .collect()
    };
    let hundred = db.rt.block_on(
        db.client
            .transact_get_items()
            .set_transact_items(Some(gets(100)))
            .send(),
    );
    assert_eq!(hundred.unwrap().responses().len(), 100);

    let message = validation_message(
        db.rt.block_on(
            db.client
                .transact_get_items()
                .set_transact_items(Some(gets(101)))
                .send(),
        ),
    );
    assert!(
        message.contains("Member must have length less than or equal to 100"),
        "{message}"
    );
}
