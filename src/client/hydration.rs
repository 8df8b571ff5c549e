//! Hydration that waits for lazily loaded routes, and the moment it is over.
//!
//! The settings pages' code is loaded only when one is opened (`Lazy` routes, split into
//! their own WASM modules by `cargo leptos build --split`). Hydrating such a page is
//! asynchronous: the shell first, then the route once its module has arrived. Until the
//! whole page is hydrated nothing may change what the server rendered: a part hydrated
//! later would take the changed value for the server's and never update its DOM (a submit
//! button rendered disabled stayed disabled). So the session reads the browser's storage
//! only once `finished()` is true, and marks the document interactive
//! (`<html data-hydrated>`) right after.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

#[cfg(feature = "hydrate")]
thread_local! {
    static FINISHED: ArcRwSignal<bool> = ArcRwSignal::new(false);
}

/// Marks the document as interactive (`<html data-hydrated>`), for tests and tooling.
pub fn mark_interactive() {
    #[cfg(feature = "hydrate")]
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}

/// True once the whole page is hydrated (tracked, so an effect reading it runs again
/// then). Always false on the server.
pub fn finished() -> bool {
    #[cfg(feature = "hydrate")]
    {
        FINISHED.with(|finished| finished.get())
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Hydrates the server-rendered `<body>` with `app`, lazy routes included, then records
/// that hydration is over.
#[cfg(feature = "hydrate")]
pub fn hydrate<F, N>(app: F)
where
    F: FnOnce() -> N + 'static,
    N: IntoView,
{
    let Some(body) = document().body() else {
        return;
    };
    // Leptos' own executor starts inside hydrate_from_async; this first task runs on
    // the browser's microtask queue.
    wasm_bindgen_futures::spawn_local(async move {
        let handle = hydrate_from_async(body, app).await;
        handle.forget();
        FINISHED.with(|finished| finished.set(true));
    });
}
