//! `/`: what Keyhold is, with the ways in.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Welcome" />
        <section class="hero" aria-labelledby="hero-title">
            <h1 id="hero-title" class="hero__title">"Your account, safely kept."</h1>
            <p class="hero__text">
                "Sign up with a username, e-mail and password. Keyhold stores your password only as an argon2id hash and signs you in with a short-lived token."
            </p>
            <div class="hero__actions">
                <a class="button button--primary" href="/signup">"Create an account"</a>
                <a class="button button--ghost" href="/login">"Log in"</a>
            </div>
        </section>
        <ul class="features" aria-label="What Keyhold does for you">
            <li class="feature">
                <h2 class="feature__title">"Passwords never stored"</h2>
                <p class="feature__text">"Only an argon2id hash is kept, and passwords known from data breaches are refused."</p>
            </li>
            <li class="feature">
                <h2 class="feature__title">"Short-lived sign-ins"</h2>
                <p class="feature__text">"Sign-in tokens expire quickly, and one click signs out every device."</p>
            </li>
            <li class="feature">
                <h2 class="feature__title">"Your data is yours"</h2>
                <p class="feature__text">"Download everything stored about you, or delete your account for good."</p>
            </li>
        </ul>
    }
}
