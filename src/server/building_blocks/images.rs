//! Profile images, safe against hostile files: the format is sniffed from the bytes
//! (PNG, JPEG, WebP, GIF — first frame; everything else is refused), the dimensions are
//! read from the header before any decoding (at most 4096 × 4096 and 16 megapixels),
//! decoding runs with allocation limits on a few low-priority threads, and the picture
//! is re-encoded from pixels to square WebP images of fixed sizes — which drops EXIF/GPS
//! metadata and any payload hidden in the original file. Safe against floods too: an
//! upload takes one of a fixed number of slots before its body is read, so the memory
//! held by uploads is bounded (slots × the upload limit, plus threads × one decode).

use crate::server::building_blocks::digest::sha256_hex_of;
use crate::server::building_blocks::{
    load_shedding::{Admission, Admitted},
    low_priority_threads::{return_free_memory, LowPriorityThreads, WorkerError},
};
use image::{imageops::FilterType, DynamicImage, ImageFormat, ImageReader, Limits};
use std::{io::Cursor, sync::Arc, time::Duration};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub const MAX_SIDE: u32 = 4096;
pub const MAX_PIXELS: u64 = 16_000_000;
/// Most memory one decode may allocate.
const MAX_DECODE_ALLOC: u64 = 128 * 1024 * 1024;
/// The sizes stored (square, pixels): the profile picture and the header avatar.
pub const LARGE: u32 = 256;
pub const SMALL: u32 = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("The file is empty.")]
    Empty,
    #[error("This is not a supported image: use PNG, JPEG, WebP or GIF.")]
    Unsupported,
    #[error("The image is {width} × {height} pixels; the most is 4096 × 4096 (16 megapixels).")]
    TooManyPixels { width: u32, height: u32 },
    #[error("The image is damaged or incomplete.")]
    Damaged,
    #[error("image processing failed: {0}")]
    Internal(String),
}

/// An accepted image, re-encoded.
#[derive(Debug, Clone)]
pub struct ProcessedImage {
    /// Content hash of the re-encoded pictures (hex), used in their URL.
    pub hash: String,
    /// `LARGE` × `LARGE` WebP.
    pub large: Vec<u8>,
    /// `SMALL` × `SMALL` WebP.
    pub small: Vec<u8>,
}

/// A decoding thread that has had nothing to do for this long returns the memory its
/// decodes left in the allocator to the operating system.
const RELEASE_AFTER: Duration = Duration::from_secs(10);

/// How many uploads are received and processed at once, and by how many threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadCapacity {
    /// Uploads whose body is being received or processed at once.
    pub slots: usize,
    /// Uploads allowed to wait for a slot (without their body read) before new ones
    /// are turned away.
    pub queue: usize,
    /// Decoding threads.
    pub threads: usize,
}

/// Receives and processes uploads with bounded memory: each upload holds a slot from
/// before its body is read until its pictures are made, and decodes run on a few
/// low-priority threads (decoding is CPU- and memory-heavy).
pub struct ImageProcessor {
    /// Uploads holding or waiting for a slot: at most slots + queue.
    admission: Admission,
    slots: Arc<Semaphore>,
    threads: LowPriorityThreads,
}

/// An upload's right to be received and processed. Taken before the first byte of its
/// body is read, and held until its pictures are made.
pub struct UploadSlot {
    _slot: OwnedSemaphorePermit,
    _admitted: Admitted,
}

impl ImageProcessor {
    pub fn new(capacity: UploadCapacity) -> Result<Self, WorkerError> {
        let slots = capacity.slots.max(1);
        Ok(Self {
            admission: Admission::new(slots + capacity.queue),
            slots: Arc::new(Semaphore::new(slots)),
            threads: LowPriorityThreads::start(
                "image",
                capacity.threads,
                RELEASE_AFTER,
                || {},
                return_free_memory,
            )?,
        })
    }

    /// A slot for one upload, after waiting in the queue if need be; `None` when every
    /// slot and place in the queue is taken (the upload is turned away: 503).
    pub async fn take_slot(&self) -> Option<UploadSlot> {
        let admitted = self.admission.enter()?;
        // The semaphore is never closed.
        let slot = Arc::clone(&self.slots).acquire_owned().await.ok()?;
        Some(UploadSlot {
            _slot: slot,
            _admitted: admitted,
        })
    }

    /// Checks and re-encodes an upload received in `_slot`.
    pub async fn process(
        &self,
        _slot: &UploadSlot,
        bytes: Vec<u8>,
    ) -> Result<ProcessedImage, ImageError> {
        self.threads
            .run(move || process(&bytes))
            .await
            .map_err(|e| ImageError::Internal(e.to_string()))?
    }
}

/// The whole pipeline, synchronously.
pub fn process(bytes: &[u8]) -> Result<ProcessedImage, ImageError> {
    let image = decode(bytes)?;
    let large = encode(&image, LARGE)?;
    let small = encode(&image, SMALL)?;
    let mut hash = sha256_hex_of(&[&large, &small]);
    hash.truncate(32);
    Ok(ProcessedImage { hash, large, small })
}

/// Sniffs, checks the dimensions from the header, then decodes with limits.
fn decode(bytes: &[u8]) -> Result<DynamicImage, ImageError> {
    let format = check_header(bytes)?;
    reader(bytes, format)
        .decode()
        .map_err(|e| classify(&e, bytes))
}

/// The format sniffed from the bytes, once the header's dimensions are within the
/// limits: no pixel is decoded, so a decompression bomb stops here. Cheap enough to
/// check a file before anything else depends on it (a sign-up with a picture).
pub fn check_header(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    let format = match image::guess_format(bytes) {
        Ok(
            format @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif),
        ) => format,
        _ => return Err(ImageError::Unsupported),
    };
    let (width, height) = reader(bytes, format)
        .into_dimensions()
        .map_err(|e| classify(&e, bytes))?;
    if width == 0 || height == 0 {
        return Err(ImageError::Damaged);
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooManyPixels { width, height });
    }
    Ok(format)
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    reader
}

fn classify(error: &image::ImageError, bytes: &[u8]) -> ImageError {
    match error {
        image::ImageError::Limits(_) => match header_dimensions(bytes) {
            Some((width, height)) => ImageError::TooManyPixels { width, height },
            None => ImageError::TooManyPixels {
                width: MAX_SIDE + 1,
                height: MAX_SIDE + 1,
            },
        },
        image::ImageError::Unsupported(_) => ImageError::Unsupported,
        _ => ImageError::Damaged,
    }
}

/// The dimensions a header declares, without limits (for the error message only).
fn header_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    reader.no_limits();
    reader.into_dimensions().ok()
}

/// Centre-cropped square of `side` pixels, as lossless WebP, from the pixels only.
fn encode(image: &DynamicImage, side: u32) -> Result<Vec<u8>, ImageError> {
    let square = image
        .resize_to_fill(side, side, FilterType::Lanczos3)
        .into_rgba8();
    let mut out = Vec::new();
    square
        .write_to(&mut Cursor::new(&mut out), ImageFormat::WebP)
        .map_err(|e| ImageError::Internal(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgba};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(width, height, |x, y| {
            Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[tokio::test]
    async fn uploads_beyond_the_slots_wait_in_the_queue_then_are_turned_away() {
        let processor = ImageProcessor::new(UploadCapacity {
            slots: 1,
            queue: 1,
            threads: 1,
        })
        .unwrap();
        let first = processor.take_slot().await.unwrap();
        let waiting = processor.take_slot();
        tokio::pin!(waiting);
        assert!(futures::poll!(&mut waiting).is_pending(), "queued");
        assert!(processor.take_slot().await.is_none(), "slot and queue full");
        drop(first);
        let second = waiting.await.unwrap();
        let processed = processor.process(&second, png(64, 48)).await.unwrap();
        assert_eq!(processed.hash.len(), 32);
    }

    #[test]
    fn a_png_becomes_two_square_webps() {
        let processed = process(&png(640, 480)).unwrap();
        for (bytes, side) in [(&processed.large, LARGE), (&processed.small, SMALL)] {
            assert_eq!(image::guess_format(bytes).unwrap(), ImageFormat::WebP);
            let decoded = image::load_from_memory(bytes).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (side, side));
        }
        assert_eq!(processed.hash.len(), 32);
        // Same input, same hash (content-addressed).
        assert_eq!(process(&png(640, 480)).unwrap().hash, processed.hash);
    }

    #[test]
    fn hostile_inputs_are_refused() {
        assert_eq!(process(b"").unwrap_err(), ImageError::Empty);
        assert_eq!(
            process(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
                .unwrap_err(),
            ImageError::Unsupported
        );
        let whole = png(100, 100);
        assert_eq!(
            process(&whole[..whole.len() / 2]).unwrap_err(),
            ImageError::Damaged
        );
    }

    #[test]
    fn a_bomb_is_refused_from_its_header() {
        // A valid PNG header declaring 100000 × 100000 pixels, with almost no data.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]); // chunk type + IHDR data
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(
            process(&bomb).unwrap_err(),
            ImageError::TooManyPixels {
                width: 100_000,
                height: 100_000
            }
        );
        assert!(matches!(
            process(&png(4097, 10)).unwrap_err(),
            ImageError::TooManyPixels {
                width: 4097,
                height: 10
            }
        ));
    }
}
