//! `ceremony hash`.

use crate::harness::{arg, run, vector};

#[test]
fn hashes_hello_world_as_hex_and_pgp_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hello");
    std::fs::write(&path, "hello, world\n").unwrap();
    run(&["hash", arg(&path)])
        .expect_code(0)
        .expect_stdout("853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020")
        .expect_stdout(
            "music customer waffle consensus flagpole Orlando goggles suspicious virus candidate snowslide underfoot \
             treadmill tambourine stockman hazardous payday Galveston swelter performance revenge integrate Dupont \
             Brazilian concert revolver bison surrender kiwi mosquito facial butterfat",
        );
}

#[test]
fn hashes_several_files_in_json() {
    let result = run(&[
        "--json",
        "hash",
        arg(&vector("ksr-root-2017-q2-0.xml")),
        arg(&vector("skr-root-2017-q1-0.xml")),
    ]);
    result.expect_code(0);
    let json = result.json();
    // The checksums published in shared/vectors/README.md.
    assert_eq!(
        json[0]["file_sha256"],
        "7075069cff6b88bdc276204014f32e8b70ab04a1f59f1769cd28ef7d16638cf4"
    );
    assert_eq!(
        json[1]["file_sha256"],
        "0475e10c848902105b2b06580f6990d17285fddd96aa8dd535967a1423a97312"
    );
    assert_eq!(
        json[0]["file_pgp_words"]
            .as_str()
            .unwrap()
            .split(' ')
            .count(),
        32
    );
}

#[test]
fn a_missing_file_is_an_error() {
    run(&["hash", "/nonexistent"])
        .expect_code(1)
        .expect_stderr("cannot read /nonexistent");
}
