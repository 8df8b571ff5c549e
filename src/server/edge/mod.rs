//! The HTTP edge: everything between axum and the server functions. Each job has its
//! file: what a server function reads from its request and adds to its answer
//! (`request_context`), account errors as API errors (`error_mapping`), the one error
//! body (`error_body`), request bodies (`body_negotiation`) following each endpoint's
//! declaration (`endpoint_rules`), the headers every answer carries (`headers`), and
//! the server functions' routes (`server_fns`), compression (`compression`), and the
//! pages, rendered for the browser session the request carries (`pages`).

mod body_negotiation;
mod compression;
mod endpoint_rules;
mod error_body;
mod error_mapping;
pub mod headers;
mod pages;
mod request_context;
mod server_fns;

pub use body_negotiation::{BodyLimits, RequestBodyLayer};
pub use compression::CompressLayer;
pub use endpoint_rules::EndpointRules;
pub use error_body::{api_not_found, error_response, normalize_api_response, panic_response};
pub use pages::{page, Viewer};
pub use request_context::{
    bearer_token, check_origin, client_addr, request_headers, set_cookie, set_status, Caller,
};
pub use server_fns::{server_fn_routes, with_server_fns};
