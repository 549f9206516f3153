#!/usr/bin/python3
"""Validate every signature of KSR/SKR documents with dnspython.

An independent check of `ceremony`: the XML is read with Python's own
parser, the DNSKEY RRset of each bundle is built by dnspython, and each
Signature is checked with dns.dnssec.validate_rrsig against the one key it
names. Key tags are recomputed with dns.dnssec.key_id.

A document in the Knot DNS / BIND text format (it starts with ";;") is read
with dnspython's own master-file parser, bundle by bundle, and each RRSIG
is checked against the DNSKEY of its bundle with its key tag and algorithm,
at its inception.

Usage: validate.py [--ksk-tags TAG,TAG...] FILE...
Prints one line per document and "N passed, N failed" at the end; exits 1
if any signature or key tag fails. With --ksk-tags, every bundle must also
carry a valid signature by a key with Flags 257 or 385 whose tag is one of
those: the SKR is anchored to the expected KSKs.
"""

import base64
import calendar
import sys
import time
import xml.etree.ElementTree as ET

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdataset
import dns.rrset


def seconds(text):
    """Document timestamp to Unix seconds (UTC)."""
    text = text.strip()
    for suffix in ("+00:00", "-00:00", "Z"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))


def rrsig_time(value):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(value))


def dnskey(key):
    text = "%s %s %s %s" % (
        key.find("Flags").text.strip(),
        key.find("Protocol").text.strip(),
        key.find("Algorithm").text.strip(),
        "".join(key.find("PublicKey").text.split()),
    )
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, text)


def check_text_document(path, anchors=None):
    """A text SKR: bundles under ";; SignedKeyResponse 1.0 <time>" headers."""
    import dns.zone
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    bundles, current = [], None
    for line in lines:
        if line.startswith(";; SignedKeyResponse 1.0 ") or line.startswith(";; KeySigningRequest 1.0 "):
            word = line.split()[3]
            current = None if word == "generated" else []
            if current is not None:
                bundles.append((word, current))
        elif current is not None:
            current.append(line)
    passed = failed = 0
    problems = []
    for time_text, body in bundles:
        records = [line for line in body if line.strip() and not line.lstrip().startswith(";")]
        origin = dns.name.from_text(records[0].split()[0])
        zone = dns.zone.from_text("\n".join(records) + "\n", origin=origin, relativize=False, check_origin=False)
        node = zone.get_node(origin)
        keys = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY)
        sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
        rrset = dns.rrset.from_rdata_list(origin, keys.ttl, list(keys))
        anchored = False
        if not sigs:
            failed += 1
            problems.append("bundle %s: no RRSIG over the DNSKEY RRset" % time_text)
        for rrsig in sigs or []:
            signer = [k for k in keys if dns.dnssec.key_id(k) == rrsig.key_tag and k.algorithm == rrsig.algorithm]
            key_set = dns.rdataset.from_rdata_list(keys.ttl, signer)
            try:
                dns.dnssec.validate_rrsig(rrset, rrsig, {origin: key_set}, now=rrsig.inception + 1)
                passed += 1
                if anchors is not None and signer and signer[0].flags in (257, 385) and rrsig.key_tag in anchors:
                    anchored = True
            except dns.dnssec.ValidationFailure as err:
                failed += 1
                problems.append("bundle %s: signature by %d: %s" % (time_text, rrsig.key_tag, err))
        # CDNSKEY and CDS, when present: signed by the bundle's KSKs too.
        for rdtype in (dns.rdatatype.CDNSKEY, dns.rdatatype.CDS):
            records = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if records is None:
                continue
            covering = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype)
            if not covering:
                failed += 1
                problems.append("bundle %s: %s without RRSIG" % (time_text, dns.rdatatype.to_text(rdtype)))
                continue
            rrset_other = dns.rrset.from_rdata_list(origin, records.ttl, list(records))
            for rrsig in covering:
                signer = [k for k in keys if dns.dnssec.key_id(k) == rrsig.key_tag and k.algorithm == rrsig.algorithm]
                try:
                    dns.dnssec.validate_rrsig(rrset_other, rrsig, {origin: dns.rdataset.from_rdata_list(keys.ttl, signer)}, now=rrsig.inception + 1)
                    passed += 1
                except dns.dnssec.ValidationFailure as err:
                    failed += 1
                    problems.append("bundle %s: %s signature by %d: %s" % (time_text, dns.rdatatype.to_text(rdtype), rrsig.key_tag, err))
        if anchors is not None:
            if anchored:
                passed += 1
            else:
                failed += 1
                problems.append("bundle %s: no valid signature by a KSK tagged %s" % (time_text, sorted(anchors)))
    return passed, failed, problems


def check_document(path, anchors=None):
    with open(path, "rb") as handle:
        if handle.read(64).lstrip().startswith(b";;"):
            return check_text_document(path, anchors)
    root = ET.parse(path).getroot()
    domain = dns.name.from_text(root.get("domain"))
    body = root[0]
    passed = failed = 0
    problems = []
    for bundle in body:
        if not bundle.tag.endswith("Bundle"):
            continue
        keys = {k.get("keyIdentifier"): k for k in bundle.findall("Key")}
        rdatas = {ident: dnskey(k) for ident, k in keys.items()}
        for ident, key in keys.items():
            if dns.dnssec.key_id(rdatas[ident]) != int(key.get("keyTag")):
                failed += 1
                problems.append("bundle %s: key tag of %s" % (bundle.get("id"), ident))
            else:
                passed += 1
        anchored = False
        for sig in bundle.findall("Signature"):
            f = lambda name: sig.find(name).text.strip()
            original_ttl = int(f("OriginalTTL"))
            rrset = dns.rrset.from_rdata_list(domain, original_ttl, list(rdatas.values()))
            inception = seconds(f("SignatureInception"))
            rrsig_text = "DNSKEY %s %s %s %s %s %s %s %s" % (
                f("Algorithm"),
                f("Labels"),
                original_ttl,
                rrsig_time(seconds(f("SignatureExpiration"))),
                rrsig_time(inception),
                f("KeyTag"),
                f("SignersName"),
                "".join(f("SignatureData").split()),
            )
            rrsig = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.RRSIG, rrsig_text)
            signer = rdatas[sig.get("keyIdentifier")]
            key_set = dns.rdataset.from_rdata_list(original_ttl, [signer])
            try:
                dns.dnssec.validate_rrsig(rrset, rrsig, {domain: key_set}, now=inception + 1)
                passed += 1
                if anchors is not None and signer.flags in (257, 385) and dns.dnssec.key_id(signer) in anchors:
                    anchored = True
            except dns.dnssec.ValidationFailure as err:
                failed += 1
                problems.append("bundle %s: signature by %s: %s" % (bundle.get("id"), sig.get("keyIdentifier"), err))
        if anchors is not None:
            if anchored:
                passed += 1
            else:
                failed += 1
                problems.append("bundle %s: no valid signature by a KSK tagged %s" % (bundle.get("id"), sorted(anchors)))
    return passed, failed, problems


def main(argv):
    anchors = None
    if argv[:1] == ["--ksk-tags"]:
        anchors = {int(tag) for tag in argv[1].split(",") if tag} or None
        argv = argv[2:]
    total_passed = total_failed = 0
    for path in argv:
        passed, failed, problems = check_document(path, anchors)
        total_passed += passed
        total_failed += failed
        print("%s: %d passed, %d failed" % (path, passed, failed))
        for problem in problems:
            print("  " + problem)
    print("%d passed, %d failed" % (total_passed, total_failed))
    return 1 if total_failed or not total_passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
