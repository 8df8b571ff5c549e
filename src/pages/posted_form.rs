//! What the server answered a form the browser posted itself, before or without the
//! WASM (`server/edge/page_forms.rs`): the error to show beside its field, what was
//! typed (never a password or code) to fill the form again, the log-in's second step,
//! or the finished form's message. The server renders the page with it, and hydration
//! reads it back from the page, so both draw the same form.

use super::login_second_step::SecondStep;
use crate::api::ApiError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedForm {
    /// Why the form was refused.
    pub error: Option<ApiError>,
    /// Fields to fill in again, by name (never secrets).
    pub kept: Vec<(String, String)>,
    /// The password was right; the account asks for its second factor.
    pub second_step: Option<SecondStep>,
    /// The form did its work; the page says so.
    pub done: Option<String>,
}

impl PostedForm {
    /// What was typed into `field`, or nothing.
    pub fn kept(&self, field: &str) -> String {
        self.kept
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }
}

/// The answer this page was rendered with: from the server's context while rendering,
/// from the page while hydrating, empty on a page the browser opened itself.
pub fn use_posted_form() -> PostedForm {
    SharedValue::new(|| use_context::<PostedForm>().unwrap_or_default()).into_inner()
}
