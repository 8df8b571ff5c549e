//! The OpenAPI 3.1 document (`GET /api/openapi.json`), gathered from the declarations on
//! the server functions (`utoipa::path`, one `Endpoints` list per `api` module, gathered
//! by `api::endpoint_documents`). A leaf: only the router uses it. It adds what holds for
//! every operation: the answers of the edge (a refused body on every `POST`, 405, 503),
//! the shared schemas and the security schemes.

use crate::api::{
    endpoint_documents,
    error_responses::{Invalid, Malformed, TooLarge, Unavailable, UnsupportedType, WrongMethod},
    ApiError, ErrorCode,
};
use utoipa::{
    openapi::{
        path::Operation,
        security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme},
        ComponentsBuilder, InfoBuilder, OpenApi as Document,
    },
    IntoResponses, PartialSchema, ToSchema,
};

/// The OpenAPI 3.1 document of the API.
pub fn document() -> Document {
    let mut parts = endpoint_documents().into_iter();
    let mut document = parts.next().unwrap_or_default();
    for part in parts {
        document.merge(part);
    }
    for item in document.paths.paths.values_mut() {
        if let Some(post) = item.post.as_mut() {
            add_answers::<Malformed>(post);
            add_answers::<TooLarge>(post);
            add_answers::<UnsupportedType>(post);
            add_answers::<Invalid>(post);
        }
        for operation in [&mut item.get, &mut item.post, &mut item.delete]
            .into_iter()
            .flatten()
        {
            add_answers::<WrongMethod>(operation);
            add_answers::<Unavailable>(operation);
        }
    }
    let mut schemas = Vec::new();
    ApiError::schemas(&mut schemas);
    schemas.push((ApiError::name().into(), ApiError::schema()));
    schemas.push((ErrorCode::name().into(), ErrorCode::schema()));
    let shared = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        )
        .security_scheme(
            "refresh_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-keyhold-refresh",
                "HttpOnly refresh cookie set by POST /api/login (named keyhold-refresh when \
                 KEYHOLD_COOKIE_SECURE=false).",
            ))),
        )
        .build();
    let components = document.components.get_or_insert_with(Default::default);
    components.schemas.extend(shared.schemas);
    components.security_schemes.extend(shared.security_schemes);
    document.info = InfoBuilder::new()
        .title("Keyhold API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "User accounts: register, log in (OAuth2 password form), the signed-in user. \
             Every error is {\"error\", \"message\", \"field\"} with the status its code implies.",
        ))
        .build();
    document
}

/// Adds the answers of `R` to `operation` (one it already documents is kept).
fn add_answers<R: IntoResponses>(operation: &mut Operation) {
    for (status, response) in R::responses() {
        operation
            .responses
            .responses
            .entry(status)
            .or_insert(response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::edge::EndpointRules;

    #[test]
    fn every_operation_documents_its_schemas_and_errors() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{name} is referenced but not in components"
            );
        }
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = &operation["responses"];
                for status in ["405", "503"] {
                    assert!(responses[status].is_object(), "{method} {path} {status}");
                }
                if let Some(content) = operation["requestBody"]["content"].as_object() {
                    assert_eq!(content.len(), 1, "{method} {path}: one content type");
                }
            }
        }
        assert!(doc["paths"]["/api/users/me/image"]["delete"].is_object());
        assert!(doc["paths"]["/api/users/me/image"]["post"].is_object());
    }

    /// Forgetting a server fn in its module's `Endpoints`, or declaring another path or
    /// method than the fn really serves, fails here.
    #[test]
    fn the_document_names_exactly_the_registered_server_functions() {
        let doc = serde_json::to_value(document()).unwrap();
        let mut documented: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                let methods = item.as_object().unwrap().keys();
                methods.map(move |m| format!("{} {path}", m.to_uppercase()))
            })
            .collect();
        let mut served: Vec<String> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, method)| format!("{method} {path}"))
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }

    #[test]
    fn the_edge_can_serve_every_declared_body() {
        EndpointRules::from_document(&document()).expect("rules");
    }
}
