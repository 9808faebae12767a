use std::marker::PhantomData;
use std::rc::Rc;

use parapool::task;

/// Serializable, but holds an `Rc` marker, so it is not `Send`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Local {
    value: u32,
    marker: PhantomData<Rc<()>>,
}

#[task]
fn read(local: Local) -> u32 {
    local.value
}

fn main() {}
