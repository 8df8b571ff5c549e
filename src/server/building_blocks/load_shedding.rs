//! Load shedding: at most a fixed number of callers are let in at once (working or
//! waiting their turn); the next one is refused at once, and the edge answers it 503
//! with `Retry-After`, instead of letting a queue and its memory grow without bound.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

/// The door: how many callers are in, and the most allowed.
#[derive(Clone)]
pub struct Admission(Arc<Count>);

struct Count {
    inside: AtomicUsize,
    most: usize,
}

impl Admission {
    pub fn new(most: usize) -> Self {
        Self(Arc::new(Count {
            inside: AtomicUsize::new(0),
            most,
        }))
    }

    /// How many callers are in now.
    pub fn inside(&self) -> usize {
        self.0.inside.load(Ordering::Acquire)
    }

    /// A pass while fewer than `most` callers hold one; `None` (shed the load) after.
    pub fn enter(&self) -> Option<Admitted> {
        if self.0.inside.fetch_add(1, Ordering::AcqRel) >= self.0.most {
            self.0.inside.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Admitted(Arc::clone(&self.0)))
    }
}

/// Counts its holder as let in until it is dropped.
pub struct Admitted(Arc<Count>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.inside.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_door_closes_when_full_and_opens_as_callers_leave() {
        let door = Admission::new(2);
        let first = door.enter().unwrap();
        let second = door.enter().unwrap();
        assert!(door.enter().is_none());
        drop(first);
        let third = door.enter().unwrap();
        assert!(door.enter().is_none());
        drop((second, third));
        assert!(door.enter().is_some());
    }
}
