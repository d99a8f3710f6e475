//! The discovery function: wiring only; the logic lives in `scim-edge`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    scim_edge::lambda::run(scim_edge::Family::Discovery).await
}
