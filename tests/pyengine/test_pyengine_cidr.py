import pytest

import pyengine_support  # noqa: F401  (import paths)
from splunk_app.pyengine import cidr


@pytest.mark.parametrize("text, expected", [
    ("10.1.2.3", (4, 0x0A010203)),
    ("0.0.0.0", (4, 0)),
    ("255.255.255.255", (4, 0xFFFFFFFF)),
    ("::1", (6, 1)),
    ("::ffff:1.2.3.4", (4, 0x01020304)),
    ("::FFFF:0102:0304", (4, 0x01020304)),
    ("2001:db8::", (6, 0x20010DB8 << 96)),
    ("01.2.3.4", None),
    ("1.2.3", None),
    ("1.2.3.4.5", None),
    ("256.1.1.1", None),
    ("1.2.3.4/32", None),
    (" 1.2.3.4", None),
    ("::ffff:01.2.3.4", None),
    ("fe80::1%1", None),
    ("1:2:3:4:5:6:7:8:9", None),
    ("", None),
    ("\u0661.2.3.4", None),
])
def test_parse_ip(text, expected):
    assert cidr.parse_ip(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("10.1.2.3/8", (4, 8, 0x0A000000)),
    ("10.1.2.3", (4, 32, 0x0A010203)),
    ("0.0.0.0/0", (4, 0, 0)),
    ("::/0", (6, 0, 0)),
    ("2001:db8::1/32", (6, 32, 0x20010DB8 << 96)),
    ("::ffff:10.1.0.0/8", (4, 8, 0x0A000000)),  # mapped addresses are IPv4, ranges too
    ("::ffff:10.0.0.0/104", None),
    ("::ffff:0:0/96", None),
    ("10.0.0.0/08", (4, 8, 0x0A000000)),
    ("10.0.0.0/0008", None),
    ("10.0.0.0/33", None),
    ("::/129", None),
    ("10.0.0.0/x", None),
    ("10.0.0.0/", None),
])
def test_parse_range(text, expected):
    assert cidr.parse_range(text) == expected


def test_network_contains():
    network = cidr.Network("192.0.2.0/24")
    assert network.contains(cidr.parse_ip("192.0.2.255"))
    assert not network.contains(cidr.parse_ip("192.0.3.0"))
    assert not network.contains(None)
    with pytest.raises(ValueError, match="invalid CIDR range '1.2.3.4/40'"):
        cidr.Network("1.2.3.4/40")


def test_lookup_with_bad_rows_warns_and_keeps_the_rest(tmp_path):
    path = tmp_path / "ips.csv"
    path.write_bytes(
        b"\xef\xbb\xbfdescription,\"ip\"\r\n"
        b"first,198.51.100.0/24\r\n"
        b"bad,not-an-ip\r\n"
        b"\r\n"
        b"\"multi\nline\",203.0.113.5\r\n"
        b"short\r\n"
        b"empty,\r\n"
        b"spaces,\t2001:db8::/32 \r\n"
        b"toolong,10.0.0.0/99\r\n"
        b"mapped,::ffff:192.0.2.0/120\n"
        b"quoted,\"192.0.2.9\"\n")
    table, warnings = cidr.read_lookup(str(path))
    assert warnings == [
        "%s line 3: 'not-an-ip' is not an IP address or CIDR range; row ignored" % path,
        "%s line 7: '' is not an IP address or CIDR range; row ignored" % path,
        "%s line 8: '' is not an IP address or CIDR range; row ignored" % path,
        "%s line 10: '10.0.0.0/99' is not an IP address or CIDR range; row ignored" % path,
        "%s line 11: '::ffff:192.0.2.0/120' is not an IP address or CIDR range; row ignored" % path,
    ]
    assert table.count == 4
    assert table.contains(cidr.parse_ip("192.0.2.9"))
    assert table.contains(cidr.parse_ip("198.51.100.200"))
    assert table.contains(cidr.parse_ip("203.0.113.5"))
    assert not table.contains(cidr.parse_ip("203.0.113.6"))
    assert table.contains(cidr.parse_ip("2001:db8:ffff::1"))
    assert not table.contains(cidr.parse_ip("10.0.0.1"))


def test_lookup_without_ip_column_is_an_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("address,description\n1.2.3.4,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no 'ip' column"):
        cidr.read_lookup(str(path))
    path.write_text(" ip ,description\n1.2.3.4,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no 'ip' column"):
        cidr.read_lookup(str(path))
    path.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="has no header row"):
        cidr.read_lookup(str(path))


def test_lookup_unterminated_quote_ends_the_file_with_a_warning(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('ip\n10.0.0.0/8\n"11.0.0.0/8\n12.0.0.0/8\n', encoding="utf-8")
    table, warnings = cidr.read_lookup(str(path))
    assert warnings == ["%s line 3: unterminated quoted value; rest of file ignored" % path]
    assert table.count == 1


def test_lookup_cache_validates_names_and_files_and_caches(tmp_path):
    (tmp_path / "good.csv").write_text("ip\n1.2.3.4\nx\n", encoding="utf-8")
    cache = cidr.LookupCache(str(tmp_path))
    table = cache.get("good")
    assert cache.get("good") is table
    assert len(cache.warnings) == 1  # read once
    with pytest.raises(ValueError, match=r"must match \[A-Za-z0-9_\]\+"):
        cache.get("../good")
    with pytest.raises(ValueError, match="lookup 'missing' not found"):
        cache.get("missing")
