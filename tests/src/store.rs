//! The local stack's table through the store API the platform (or another Lambda instance)
//! uses, for tests that read or write it directly: the environment `scripts/local.sh env`
//! exports.

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
