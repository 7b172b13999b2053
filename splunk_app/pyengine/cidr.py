"""IP addresses, CIDR ranges and the address lookups of ``cidrlookup()``.

Addresses (the values being tested):

* IPv4 is exactly four decimal octets 0-255 without leading zeros (``010.0.0.1`` is not an
  address, as for glibc's ``inet_pton``); parsed here rather than by ``ipaddress`` so that
  every Python version answers the same;
* IPv6 is what ``ipaddress.IPv6Address`` accepts, limited to hex digits, ``:`` and ``.``
  (no zone ``%eth0``, no white space); an embedded IPv4 tail follows the IPv4 rule;
* an IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is the IPv4 address a.b.c.d;
* an IPv4 address never lies in an IPv6 range and vice versa.

Ranges (``cidrmatch`` literals and lookup rows) are ``address`` or ``address/prefix``: the
address is read as above (so ``::ffff:10.0.0.0/8`` is the IPv4 range 10.0.0.0/8, and
``::ffff:0:0/96`` is refused, its prefix being longer than 32), the prefix is 1 to 3 decimal
digits of at most 32 (IPv4) or 128 (IPv6); host bits are allowed and ignored (``10.1.2.3/8``
is ``10.0.0.0/8``); a single address is a /32 or /128.

Lookups: ``<lookup_dir>/<name>.csv``, a CSV file (an optional UTF-8 BOM; read with the same
CSV rules as the protocol bodies, see csvbody.py) whose header has a cell ``ip`` (exactly; the
last one if repeated; other columns such as ``description`` are ignored). Each row's ``ip``
value, with spaces and tabs around it removed, must be a range as above; a row whose value is
missing, empty or unreadable is skipped with a warning naming the file and the row's first
line. Blank lines are ignored silently. A quoted cell that is never closed ends the file with
a warning.
"""
import ipaddress
import os
import re

from . import csvbody

LOOKUP_NAME_RE = re.compile(r"[A-Za-z0-9_]+")
_IPV4_RE = re.compile(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})")
_IPV6_CHARS_RE = re.compile(r"[0-9A-Fa-f:.]+")
_PREFIX_RE = re.compile(r"[0-9]{1,3}")
_BITS = {4: 32, 6: 128}
_WHITESPACE = " \t\r\n\f\v"


def _parse_ipv4(text):
    match = _IPV4_RE.fullmatch(text)
    if match is None:
        return None
    number = 0
    for octet in match.groups():
        value = int(octet)
        if value > 255:
            return None
        number = (number << 8) | value
    return number


def _parse_address(text):
    """(version, integer) of an IPv4 or IPv6 address text, without mapping, or None."""
    if ":" not in text:
        number = _parse_ipv4(text)
        return None if number is None else (4, number)
    if _IPV6_CHARS_RE.fullmatch(text) is None:
        return None
    if "." in text:
        # The embedded IPv4 tail must follow the IPv4 rules above as well.
        tail = text.rsplit(":", 1)[1]
        if _parse_ipv4(tail) is None:
            return None
    try:
        return 6, int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


def parse_ip(text):
    """(version, integer) of an address value, IPv4-mapped IPv6 turned into IPv4, or None."""
    address = _parse_address(text)
    if address is not None and address[0] == 6 and (address[1] >> 32) == 0xFFFF:
        return 4, address[1] & 0xFFFFFFFF
    return address


def parse_range(text):
    """(version, prefix length, network integer) of a range text, or None when invalid."""
    if "/" in text:
        address_text, prefix_text = text.split("/", 1)
        if _PREFIX_RE.fullmatch(prefix_text) is None:
            return None
        prefix = int(prefix_text)
    else:
        address_text, prefix = text, None
    address = parse_ip(address_text)
    if address is None:
        return None
    version, number = address
    bits = _BITS[version]
    if prefix is None:
        prefix = bits
    if prefix > bits:
        return None
    return version, prefix, number & _mask(bits, prefix)


def _mask(bits, prefix):
    return ((1 << prefix) - 1) << (bits - prefix)


class Network(object):
    """One range, as cidrmatch() uses it."""

    __slots__ = ("text", "version", "prefix", "network", "mask")

    def __init__(self, text):
        parsed = parse_range(text)
        if parsed is None:
            raise ValueError("invalid CIDR range '%s'" % text)
        self.text = text
        self.version, self.prefix, self.network = parsed
        self.mask = _mask(_BITS[self.version], self.prefix)

    def contains(self, address):
        """``address`` is a parse_ip() result (or None)."""
        return address is not None and address[0] == self.version and (address[1] & self.mask) == self.network


class RangeSet(object):
    """Many ranges: per IP version, prefix length -> set of network integers."""

    def __init__(self):
        self._by_version = {4: {}, 6: {}}
        self.count = 0

    def add(self, version, prefix, network):
        self._by_version[version].setdefault(prefix, set()).add(network)
        self.count += 1

    def contains(self, address):
        if address is None:
            return False
        version, number = address
        bits = _BITS[version]
        for prefix, networks in self._by_version[version].items():
            if (number & _mask(bits, prefix)) in networks:
                return True
        return False


def read_lookup(path):
    """Read a lookup file into a RangeSet. Returns (range set, warnings).

    Raises ValueError when the file cannot be read or has no ``ip`` column.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as error:
        raise ValueError("cannot read lookup file %s: %s" % (path, error))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    rows = csvbody.iter_raw_rows(csvbody.decode_text(data))
    ranges = RangeSet()
    warnings = []
    try:
        header = next(rows, None)
        if header is None:
            raise ValueError("lookup file %s has no header row" % path)
        names = [csvbody.unquote(cell) for cell in header[1]]
        if "ip" not in names:
            raise ValueError("lookup file %s has no 'ip' column" % path)
        column = len(names) - 1 - names[::-1].index("ip")
        for line, cells in rows:
            if len(cells) == 1 and cells[0] == "":
                continue  # a blank line
            value = csvbody.unquote(cells[column]).strip(" \t") if column < len(cells) else ""
            parsed = parse_range(value)
            if parsed is None:
                warnings.append("%s line %d: '%s' is not an IP address or CIDR range; row ignored"
                                % (path, line, value))
                continue
            ranges.add(*parsed)
    except csvbody.CsvError as error:
        if error.line == 1:
            raise ValueError("lookup file %s has no header row (unterminated quoted value)" % path)
        warnings.append("%s line %d: unterminated quoted value; rest of file ignored" % (path, error.line))
    return ranges, warnings


class LookupCache(object):
    """Loads ``<lookup_dir>/<name>.csv`` once per name; collects the warnings of every file."""

    def __init__(self, lookup_dir):
        self.lookup_dir = lookup_dir
        self.warnings = []
        self._tables = {}

    def get(self, name):
        """The RangeSet of lookup ``name``; ValueError when the name or the file is wrong."""
        table = self._tables.get(name)
        if table is not None:
            return table
        if LOOKUP_NAME_RE.fullmatch(name) is None:
            raise ValueError("lookup name '%s' must match [A-Za-z0-9_]+" % name)
        path = self.lookup_dir + "/" + name + ".csv"
        if not os.path.isfile(path):
            raise ValueError("lookup '%s' not found: %s does not exist" % (name, path))
        table, warnings = read_lookup(path)
        self.warnings.extend(warnings)
        self._tables[name] = table
        return table
