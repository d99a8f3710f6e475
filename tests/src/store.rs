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

/// The local DynamoDB stand-in itself (`AWS_ENDPOINT_URL`) through the SDK, and the table's
/// name, for tests that send it requests the store would never build.
pub fn dynamodb(rt: &tokio::runtime::Runtime) -> (aws_sdk_dynamodb::Client, String) {
    let table = std::env::var("TABLE_NAME").expect("TABLE_NAME is not set: run via integration.sh");
    let sdk = rt.block_on(aws_config::defaults(aws_config::BehaviorVersion::latest()).load());
    (aws_sdk_dynamodb::Client::new(&sdk), table)
}
