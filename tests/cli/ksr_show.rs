//! `ceremony ksr show` and `ceremony skr show`.

use crate::harness::{arg, run, vector};

#[test]
fn shows_the_bundles_keys_and_signatures_of_a_ksr() {
    run(&["ksr", "show", arg(&vector("ksr-root-2017-q2-0.xml"))])
        .expect_code(0)
        .expect_stdout("KSR 23e34059-7725-46a8-a7d2-662d657aab2b")
        .expect_stdout("serial 1  domain .")
        .expect_stdout("algorithm 8 (RSASHA256): RSA size 2048 exponent 65537")
        .expect_stdout("bundle 1/9 dc1bc68c-b1c1-46f8-817f-ec893549f2be  2017-04-01T00:00:00Z → 2017-04-22T00:00:00Z  (21d)")
        .expect_stdout("key 14796  flags 256 (ZSK)  algorithm 8 (RSASHA256)  2048 bits")
        .expect_stdout("signature by 14796");
}

#[test]
fn shows_an_skr_with_both_policies() {
    run(&["skr", "show", arg(&vector("skr-root-2017-q3-0-c_to_d.xml"))])
        .expect_code(0)
        .expect_stdout("KSK policy:")
        .expect_stdout("PublishSafety PT0S  RetireSafety P28D")
        .expect_stdout("key 20326  flags 257 (KSK)")
        .expect_stdout("signature by 19036 (Kjqmt7v)");
}

#[test]
fn json_gives_the_whole_model() {
    let result = run(&[
        "--json",
        "skr",
        "show",
        arg(&vector("skr-root-2017-q2-0.xml")),
    ]);
    result.expect_code(0);
    let json = result.json();
    let skr = &json["skr"];
    assert_eq!(skr["id"], "23e34059-7725-46a8-a7d2-662d657aab2b");
    assert_eq!(skr["ksk_policy"]["retire_safety"], "P28D");
    let bundle = &skr["bundles"][0];
    assert_eq!(bundle["inception"], "2017-04-01T00:00:00Z");
    let ksk = bundle["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["identifier"] == "Kjqmt7v")
        .unwrap();
    assert_eq!(ksk["key_tag"], 19036);
    assert_eq!(ksk["flags"], 257);
    assert_eq!(ksk["size"], 2048);
    assert_eq!(bundle["signatures"][0]["key_tag"], 19036);
    assert_eq!(
        bundle["signatures"][0]["expiration"],
        "2017-04-22T00:00:00Z"
    );
}

#[test]
fn an_unreadable_document_shows_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.xml");
    std::fs::write(&path, "<KSR id='x' domain='.' serial='1'><Request>").unwrap();
    run(&["ksr", "show", arg(&path)])
        .expect_code(1)
        .expect_stdout("element <Request> is not closed");
}
