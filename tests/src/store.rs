//! The local stack's table through the store API the platform (or another Lambda instance)
//! uses, for tests that read or write it directly: the environment `scripts/local.sh env`
//! exports. `dynamodb` is the stand-in itself, for requests the store never builds.

use scim_core::ids::TenantId;
use scim_store::Store;

/// A runtime for the store's async calls.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The local table (`TABLE_NAME`) through the platform's store API.
pub fn store(rt: &tokio::runtime::Runtime) -> Store {
    let table = std::env::var("TABLE_NAME").expect("TABLE_NAME is not set: run via integration.sh");
    let sdk = rt.block_on(aws_config::defaults(aws_config::BehaviorVersion::latest()).load());
    Store::new(&aws_sdk_dynamodb::Config::from(&sdk), table)
}

/// The id of the tenant named `tenant`, as the store types it.
pub fn tenant_id(tenant: &str) -> TenantId {
    TenantId::parse(&crate::platform::tenant_id(tenant)).unwrap()
}

/// Writes a token record of `tenant` with the visible `prefix` and no usable plaintext (its hash
/// is made up), `revoked` or not, created at `created`: how a second token sharing a live one's
/// 32-bit prefix looks in the table, which issuing cannot be made to produce on purpose.
pub fn put_token_record(tenant: &str, prefix: &str, created: &str, revoked: bool) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let rt = runtime();
    let store = store(&rt);
    let id = tenant_id(tenant);
    let hash = format!("made-up-{}", crate::names::unique("hash"));
    let s = |v: &str| AttributeValue::S(v.to_string());
    let mut put = store
        .client()
        .put_item()
        .table_name(store.table())
        .item("pk", s(&scim_store::keys::token_pk(&hash)))
        .item("sk", s(scim_store::keys::TOKEN_SK))
        .item("gsi1pk", s(&scim_store::keys::tenant_tokens_gsi(&id)))
        .item("gsi1sk", s(&format!("{created}#{prefix}")))
        .item("type", s(scim_store::items::TOKEN))
        .item("tenant_id", s(&id.to_string()))
        .item("prefix", s(prefix))
        .item("name", s("look-alike"))
        .item("created", s(created));
    if revoked {
        put = put.item("revoked_at", s(created));
    }
    rt.block_on(put.send()).unwrap();
}

/// The local DynamoDB stand-in itself (`AWS_ENDPOINT_URL`) through the SDK, and the table's
/// name, for tests that send it requests the store would never build.
pub fn dynamodb(rt: &tokio::runtime::Runtime) -> (aws_sdk_dynamodb::Client, String) {
    let table = std::env::var("TABLE_NAME").expect("TABLE_NAME is not set: run via integration.sh");
    let sdk = rt.block_on(aws_config::defaults(aws_config::BehaviorVersion::latest()).load());
    (aws_sdk_dynamodb::Client::new(&sdk), table)
}
