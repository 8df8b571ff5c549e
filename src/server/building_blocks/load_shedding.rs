//! Load shedding: at most a fixed number of callers are let in at once (working or
//! waiting their turn); the next one is refused at once, and the edge answers it 503
//! with `Retry-After`, instead of letting a queue and its memory grow without bound.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The door: a permit for each caller that may be in at once.
#[derive(Clone)]
pub struct Admission {
    permits: Arc<Semaphore>,
    most: usize,
}

impl Admission {
    pub fn new(most: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(most)),
            most,
        }
    }

    /// How many callers are in now.
    pub fn inside(&self) -> usize {
        self.most - self.permits.available_permits()
    }

    /// A pass while fewer than `most` callers hold one; `None` (shed the load) after.
    pub fn enter(&self) -> Option<Admitted> {
        Arc::clone(&self.permits)
            .try_acquire_owned()
            .ok()
            .map(|permit| Admitted { _permit: permit })
    }
}

/// Counts its holder as let in until it is dropped.
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
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
