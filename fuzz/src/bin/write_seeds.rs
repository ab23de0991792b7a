//! Writes the seed corpus: each scenario of `selectors_fuzz::scenarios::seeds`, encoded, to
//! `corpus/differential/<name>` (run from `fuzz/`; `make fuzz-seeds` does).

use std::fs;
use std::path::Path;

use selectors_fuzz::ops::encode;
use selectors_fuzz::scenarios::seeds;

fn main() {
    let dir = Path::new("corpus/differential");
    fs::create_dir_all(dir).expect("the corpus folder can be made");
    for (name, ops) in seeds() {
        fs::write(dir.join(name), encode(&ops)).expect("the seed can be written");
    }
}
