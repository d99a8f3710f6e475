//! The local stack's store, for tests that read or write the table the way the platform (or
//! another Lambda instance) does: the environment `scripts/local.sh env` exports.

use scim_store::Store;

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn store(rt: &tokio::runtime::Runtime) -> Store {
    let table = std::env::var("TABLE_NAME").expect("TABLE_NAME is not set: run via integration.sh");
    let sdk = rt.block_on(aws_config::defaults(aws_config::BehaviorVersion::latest()).load());
    Store::new(&aws_sdk_dynamodb::Config::from(&sdk), table)
}
