//! The profile image: `POST /api/users/me/image` (multipart form data, field `image`)
//! sets or replaces it, `DELETE /api/users/me/image` removes it. Both take
//! `Authorization: Bearer <token>` and answer with the user (its `image_url`).
//! The pictures are served at `image_url` (`GET /media/avatars/<hash>/<size>.webp`).

use super::{ApiError, UserView};
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::{DeleteUrl, MultipartData, MultipartFormData};

/// `POST /api/users/me/image` (documentation of the multipart form).
#[cfg(feature = "ssr")]
#[derive(utoipa::ToSchema)]
pub struct ImageUpload {
    /// PNG, JPEG, WebP or GIF; at most 5 MiB and 4096 × 4096 pixels.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub image: Vec<u8>,
}

/// Sets the profile image from the form field `image` (PNG, JPEG, WebP or GIF, at most
/// 5 MiB and 4096 × 4096 pixels). It is re-encoded to 256 and 64 px squares; the
/// original file is never stored. 413 too large, 415 not a supported image, 422
/// damaged, empty or too many pixels (field `image`); 503 with `Retry-After` while the
/// server is receiving as many uploads as it takes at once.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/image", operation_id = "upload_image", tag = "accounts",
    summary = "Set or replace the profile image (multipart, field `image`)",
    security(("bearer" = [])),
    request_body(content = ImageUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The user with the new `image_url`.", body = UserView),
        super::error_responses::Unauthenticated,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/image", input = MultipartFormData, client = AuthClient)]
pub async fn upload_image(data: MultipartData) -> Result<UserView, ApiError> {
    let (state, user) = crate::server::edge::signed_in().await?;
    // Before a byte of the body is read: the slot bounds the memory uploads hold.
    let client = crate::server::edge::client_addr(&state);
    let slot = state.accounts.take_upload_slot(&user, client).await?;
    let bytes = read_image_field(data).await?;
    let updated = state.accounts.set_image(&user, slot, bytes).await?;
    Ok(updated.into())
}

/// Removes the profile image (the initials avatar shows again).
#[cfg_attr(feature = "ssr", utoipa::path(
    delete, path = "/api/users/me/image", operation_id = "remove_image", tag = "accounts",
    summary = "Remove the profile image",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user, `image_url` null.", body = UserView),
        super::error_responses::Unauthenticated,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/image", input = DeleteUrl, client = AuthClient)]
pub async fn remove_image() -> Result<UserView, ApiError> {
    let (state, user) = crate::server::edge::signed_in().await?;
    let updated = state.accounts.remove_image(&user).await?;
    Ok(updated.into())
}

/// The bytes of the form field `image` (the first one; other fields are skipped). The
/// body was capped at the upload limit by the edge.
#[cfg(feature = "ssr")]
async fn read_image_field(data: MultipartData) -> Result<Vec<u8>, ApiError> {
    let mut form = data.into_inner().ok_or_else(|| ApiError::for_status(400))?;
    let mut image = None;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(&e.to_string()))?
    {
        if field.name() != Some("image") || image.is_some() {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| multipart_error(&e.to_string()))?
        {
            bytes.extend_from_slice(&chunk);
        }
        image = Some(bytes);
    }
    image.ok_or_else(|| {
        ApiError::invalid_field("image", "Choose an image file (form field \"image\").")
    })
}

#[cfg(feature = "ssr")]
fn multipart_error(message: &str) -> ApiError {
    if message.contains("length limit") || message.contains("size limit") {
        return ApiError::for_status(413);
    }
    ApiError::new(
        super::ErrorCode::BadRequest,
        "The multipart form data is malformed.",
    )
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(upload_image, remove_image))]
pub struct Endpoints;
