struct Counter;

impl Counter {
    #[parapool::task]
    fn count(&self, word: String) -> usize {
        word.len()
    }
}

fn main() {}
