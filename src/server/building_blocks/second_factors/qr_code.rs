//! A QR code as a small SVG (qrcodegen), drawn on the server: one path of dark modules,
//! no image library, nothing the browser must run.

use qrcodegen::{QrCode, QrCodeEcc};

/// Modules of white border around the code (the standard asks for four).
const QUIET_ZONE: i32 = 4;

/// The SVG of a QR code for `text`, titled `title` (plain text of ours, without markup);
/// `None` when the text is too long for a QR code.
pub fn svg(text: &str, title: &'static str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size() + 2 * QUIET_ZONE;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE));
            }
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         role=\"img\" aria-label=\"{title}\" shape-rendering=\"crispEdges\">\
         <title>{title}</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_an_svg_with_its_title() {
        let svg = super::svg("otpauth://totp/Keyhold:alice?secret=AAAA", "QR code").unwrap();
        assert!(svg.starts_with("<svg "));
        assert!(svg.contains("<title>QR code</title>"));
        assert!(svg.contains("h1v1h-1z"));
        assert!(super::svg(&"x".repeat(5000), "too long").is_none());
    }
}
