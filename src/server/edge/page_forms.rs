//! The entry pages' forms when the browser posts them itself, before the WASM has
//! loaded or without it: `/login` and its second step, `/signup` (multipart, with the
//! picture), `/forgot-password`, `/reset-password` and the header's "Log out". Each
//! runs the server function the page calls once it is interactive, in the request's
//! context, so the rules, throttling, cookies and activity records are the same. Done:
//! `303 See Other` to the next page (or the page again, saying so). Refused: the page
//! rendered again with the error's status, the message beside its field and what was
//! typed, secrets excepted ([`PostedForm`]); nothing goes into a URL.
//!
//! A post must come from this site's own pages: a form on another site signs nobody in
//! or out (login CSRF). Browsers say where a form post comes from: its `Origin`, or,
//! under the pages' `Referrer-Policy: no-referrer` (which makes them send `Origin: null`
//! with a form post), `Sec-Fetch-Site: same-origin`, a header no page can set.

use super::{
    endpoint_rules::{BodyRule, Encoding},
    page_form_answers::{answer_with, done, query_value, read_form, refused, run, split},
};
use crate::api::{
    auth::{login, login_mfa, register, LoginMfaRequest, LoginRequest, RegisterRequest},
    proofs::SecondFactorFields,
    recovery::{forgot_password, reset_password, ForgotPasswordRequest, ResetPasswordRequest},
    refresh::log_out,
    ApiError, ErrorCode,
};
use crate::pages::{
    login::{after_log_in, LOGIN_NEXT},
    login_second_step::SecondStep,
    posted_form::PostedForm,
};
use crate::server::{building_blocks::images, runtime::state::AppState};
use axum::{
    extract::{FromRequest, Multipart, Request, State},
    response::Response,
    routing::post,
    Router,
};
use serde::Deserialize;

/// The pages that take a post, and how their forms are encoded (for the edge's body
/// limits: a sign-up may carry a picture).
pub const PAGE_FORMS: [(&str, Encoding); 5] = [
    ("/login", Encoding::Form),
    ("/signup", Encoding::Multipart),
    ("/forgot-password", Encoding::Form),
    ("/reset-password", Encoding::Form),
    ("/logout", Encoding::Form),
];

/// The body rule of a page's form.
pub fn page_form_body(encoding: Encoding) -> BodyRule {
    BodyRule {
        native: encoding,
        optional: true,
    }
}

/// `router` with the pages' form posts.
pub fn with_page_forms(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/login", post(log_in))
        .route("/signup", post(sign_up))
        .route("/forgot-password", post(send_reset_link))
        .route("/reset-password", post(choose_new_password))
        .route("/logout", post(sign_out))
}

#[derive(Deserialize)]
struct LogInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// The second step: the password was right (from the page's hidden field).
    mfa_token: Option<String>,
    /// The second step's methods, comma-separated (to draw the step again).
    #[serde(default)]
    methods: String,
    /// The authenticator's code, or a recovery code.
    #[serde(default)]
    code: String,
}

/// `POST /login[?next=…]`: the password, or the second step's code.
async fn log_in(State(state): State<AppState>, request: Request) -> Response {
    let (parts, request) = split(request);
    let form: LogInForm = match read_form(request).await {
        Ok(form) => form,
        Err(error) => return refused(&state, parts, error, PostedForm::default()).await,
    };
    let next = query_value(&parts, LOGIN_NEXT);
    // Boxed: two server functions' futures in one.
    let attempt = Box::pin(async {
        match &form.mfa_token {
            Some(mfa_token) => {
                login_mfa(LoginMfaRequest {
                    mfa_token: mfa_token.clone(),
                    second_factor: typed_code(&form.code),
                })
                .await
            }
            None => {
                login(LoginRequest::new(
                    form.username.clone(),
                    form.password.clone(),
                ))
                .await
            }
        }
    });
    let (answer, set) = run(&state, &parts, attempt).await;
    let error = match answer {
        Ok(_) => return done(after_log_in(next.as_deref()), set),
        Err(error) => error,
    };
    let posted = if let Some(mfa) = &error.mfa {
        PostedForm {
            second_step: Some(SecondStep {
                mfa_token: mfa.mfa_token.clone(),
                methods: mfa.methods.clone(),
            }),
            ..PostedForm::default()
        }
    } else {
        match form.mfa_token {
            // A wrong code: the same step again.
            Some(mfa_token) if error.error != ErrorCode::InvalidMfaToken => PostedForm {
                second_step: Some(SecondStep {
                    mfa_token,
                    methods: form.methods.split(',').map(str::to_owned).collect(),
                }),
                error: Some(error),
                ..PostedForm::default()
            },
            // The step expired or was spent: the password again.
            _ => PostedForm {
                kept: vec![("username".to_owned(), form.username)],
                error: Some(error),
                ..PostedForm::default()
            },
        }
    };
    answer_with(&state, parts, posted).await
}

/// A code typed on the second step without the WASM, which cannot switch the field:
/// six digits are the authenticator's code, anything else a recovery code
/// (`xxxx-xxxx-xxxx-xxxx`).
fn typed_code(typed: &str) -> SecondFactorFields {
    let compact: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let looks_like_totp = compact.is_empty() || compact.bytes().all(|b| b.is_ascii_digit());
    if looks_like_totp {
        SecondFactorFields {
            code: Some(typed.to_owned()),
            ..SecondFactorFields::default()
        }
    } else {
        SecondFactorFields {
            recovery_code: Some(typed.to_owned()),
            ..SecondFactorFields::default()
        }
    }
}

/// The sign-up form: its fields, and the picture's bytes when a file was chosen.
#[derive(Default)]
struct SignUpForm {
    username: String,
    email: String,
    password: String,
    image: Option<Vec<u8>>,
}

/// `POST /signup` (multipart): creates the account, signs in, sets the picture.
async fn sign_up(State(state): State<AppState>, request: Request) -> Response {
    let (parts, request) = split(request);
    let form = match read_sign_up(request, &state).await {
        Ok(form) => form,
        Err(error) => return refused(&state, parts, error, PostedForm::default()).await,
    };
    // Boxed: three server functions' futures in one.
    let signed_up = Box::pin(async {
        // A file that cannot be a picture is refused before the account exists.
        if let Some(image) = &form.image {
            images::check_header(image).map_err(|refused| {
                ApiError::from(crate::server::accounts::AccountError::from(refused))
            })?;
        }
        let user = register(RegisterRequest {
            username: form.username.clone(),
            email: form.email.clone(),
            password: form.password.clone(),
        })
        .await?;
        let token = login(LoginRequest::new(user.username, form.password.clone())).await?;
        if let Some(image) = form.image.clone() {
            set_picture(&state, &token.access_token, image).await;
        }
        Ok(())
    });
    let (answer, set) = run(&state, &parts, signed_up).await;
    match answer {
        Ok(()) => done("/profile", set),
        Err(error) => {
            let kept = vec![
                ("username".to_owned(), form.username),
                ("email".to_owned(), form.email),
            ];
            let posted = PostedForm {
                kept,
                ..PostedForm::default()
            };
            refused(&state, parts, error, posted).await
        }
    }
}

/// Sets the new account's picture, as `POST /api/users/me/image` does. The account
/// never depends on it: a picture refused now (its header was fine) leaves the profile
/// without one, and the person can choose another there.
async fn set_picture(state: &AppState, access_token: &str, image: Vec<u8>) {
    let accounts = &state.accounts;
    let set = async {
        let principal = accounts.authenticate(Some(access_token)).await?;
        let client = super::client_addr(state);
        let slot = accounts.take_upload_slot(&principal.user, client).await?;
        accounts.set_image(&principal.user, slot, image).await
    };
    if let Err(error) = set.await {
        tracing::warn!(%error, "the picture sent with a sign-up was not set");
    }
}

async fn read_sign_up(request: Request, state: &AppState) -> Result<SignUpForm, ApiError> {
    let malformed = || ApiError::new(ErrorCode::BadRequest, "The form could not be read.");
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|_| malformed())?;
    let mut form = SignUpForm::default();
    while let Some(field) = multipart.next_field().await.map_err(|_| malformed())? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "image" => {
                let bytes = field.bytes().await.map_err(|_| malformed())?;
                // No file chosen: the browser sends the field empty.
                form.image = (!bytes.is_empty()).then(|| bytes.to_vec());
            }
            "username" | "email" | "password" => {
                let text = field.text().await.map_err(|_| malformed())?;
                match name.as_str() {
                    "username" => form.username = text,
                    "email" => form.email = text,
                    _ => form.password = text,
                }
            }
            _ => {}
        }
    }
    Ok(form)
}

#[derive(Deserialize)]
struct ForgotPasswordForm {
    #[serde(default)]
    email: String,
}

/// `POST /forgot-password`: sends the link; the page says so.
async fn send_reset_link(State(state): State<AppState>, request: Request) -> Response {
    let (parts, request) = split(request);
    let form: ForgotPasswordForm = match read_form(request).await {
        Ok(form) => form,
        Err(error) => return refused(&state, parts, error, PostedForm::default()).await,
    };
    let email = form.email.clone();
    let (answer, _) = run(
        &state,
        &parts,
        forgot_password(ForgotPasswordRequest { email }),
    )
    .await;
    let posted = match answer {
        Ok(sent) => PostedForm {
            done: Some(sent.message),
            ..PostedForm::default()
        },
        Err(error) => PostedForm {
            error: Some(error),
            kept: vec![("email".to_owned(), form.email)],
            ..PostedForm::default()
        },
    };
    answer_with(&state, parts, posted).await
}

#[derive(Deserialize)]
struct ResetPasswordForm {
    #[serde(default)]
    password: String,
}

/// `POST /reset-password?token=…` (the mailed link's own address): the new password;
/// the page says it is done.
async fn choose_new_password(State(state): State<AppState>, request: Request) -> Response {
    let (parts, request) = split(request);
    let form: ResetPasswordForm = match read_form(request).await {
        Ok(form) => form,
        Err(error) => return refused(&state, parts, error, PostedForm::default()).await,
    };
    let token = query_value(&parts, "token").unwrap_or_default();
    let reset = reset_password(ResetPasswordRequest {
        token,
        password: form.password,
    });
    let (answer, _) = run(&state, &parts, reset).await;
    let posted = match answer {
        Ok(_) => PostedForm {
            done: Some("Your password was changed.".to_owned()),
            ..PostedForm::default()
        },
        Err(error) => PostedForm {
            error: Some(error),
            ..PostedForm::default()
        },
    };
    answer_with(&state, parts, posted).await
}

/// `POST /logout`: ends the browser's session, removes its cookies, opens `/login`.
async fn sign_out(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = split(request);
    let (answer, set) = run(&state, &parts, log_out()).await;
    match answer {
        Ok(_) => done("/login", set),
        Err(error) => refused(&state, parts, error, PostedForm::default()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::typed_code;

    #[test]
    fn a_typed_code_is_the_apps_when_it_is_digits_else_a_recovery_code() {
        let totp = typed_code(" 123 456 ");
        assert_eq!(totp.code.as_deref(), Some(" 123 456 "));
        assert!(totp.recovery_code.is_none());
        let empty = typed_code("");
        assert_eq!(empty.code.as_deref(), Some(""));
        let recovery = typed_code("abcd-efgh-ijkl-mnop");
        assert_eq!(
            recovery.recovery_code.as_deref(),
            Some("abcd-efgh-ijkl-mnop")
        );
        assert!(recovery.code.is_none());
    }
}
