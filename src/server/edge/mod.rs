//! The HTTP edge: everything between the network and the account rules. The router
//! (`router`) and what it serves besides the server functions: the OpenAPI document
//! (`openapi`), the published keys (`well_known`), avatars (`media`), the hashed static
//! files (`assets`) and, on their own listener, the metrics (`metrics`). Around the server
//! functions: their routes (`server_fns`), who calls (`caller`, `client_address`), what
//! a function reads from its request and adds to its answer (`request_context`), the
//! refresh and device cookies and the `Origin` check (`cookie`), request bodies
//! (`body_negotiation`) following each endpoint's declaration (`endpoint_rules`), account
//! errors as API errors (`error_mapping`), the one error body (`error_body`), the headers
//! every answer carries (`headers`), compression (`compression`), and the pages,
//! rendered for the browser session the request carries (`pages`), whose entry forms also
//! work posted without the WASM (`page_forms`).

pub mod assets;
mod body_negotiation;
mod caller;
pub mod client_address;
mod compression;
pub mod cookie;
mod endpoint_rules;
mod error_body;
mod error_mapping;
pub mod headers;
mod media;
pub mod metrics;
mod openapi;
mod page_form_answers;
mod page_forms;
mod pages;
mod request_context;
pub mod router;
mod server_fns;
mod well_known;

pub use body_negotiation::{BodyLimits, RequestBodyLayer};
pub use caller::{signed_in, signed_in_caller, signed_in_session, Caller};
pub use compression::CompressLayer;
pub use endpoint_rules::EndpointRules;
pub use error_body::{api_not_found, error_response, normalize_api_response, panic_response};
pub use pages::{page, Viewer};
pub use request_context::{
    bearer_token, check_origin, client_addr, request_headers, set_cookie, set_status,
};
pub use server_fns::{server_fn_routes, with_server_fns};
