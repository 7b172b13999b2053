# -*- coding: utf-8 -*-
import json

import pytest

import pyengine_support  # noqa: F401  (import paths)
from splunk_app.pyengine import cidr, flatten
from splunk_app.pyengine.condition import And, Any, ConditionError, Match, Not, Or, parse_condition


def holds(condition, record, lookup=None):
    """Evaluate ``condition`` on ``record`` (a dict or a JSON text)."""
    raw = record if isinstance(record, str) else json.dumps(record)
    return parse_condition(condition, lookup).evaluate(flatten.index_fields(flatten.flatten(raw)))


# -- parsing ---------------------------------------------------------------------------------

def test_or_binds_looser_than_and_and_not_binds_tightest():
    node = parse_condition("a=1 b=2 OR NOT c=3 AND d=4")
    assert isinstance(node, Or)
    left, right = node.children
    assert isinstance(left, And) and [child.field for child in left.children] == ["a", "b"]
    assert isinstance(right, And) and isinstance(right.children[0], Not)
    assert right.children[1].field == "d"


def test_keywords_are_upper_case_only():
    # lower-case "and" is an ordinary word: here a field name that lacks an operator
    with pytest.raises(ConditionError) as info:
        parse_condition("a=1 and b=2")
    assert info.value.column == 9
    assert "after field 'and'" in str(info.value)
    assert holds("a=1 AND b=2", {"a": 1, "b": 2})
    assert holds("a=and", {"a": "AND"})


def test_function_names_are_fields_without_parenthesis():
    assert holds("any=1 portrange=2", {"any": 1, "portrange": 2})


def test_field_name_syntax():
    node = parse_condition("@ts=1 _x.y{}.z:w/v-u=2 'a b'=3")
    assert [child.field for child in node.children] == ["@ts", "_x.y{}.z:w/v-u", "a b"]
    assert holds("'a b'=3 'weird=name'=4", {"a b": 3, "weird=name": 4})


@pytest.mark.parametrize("condition, column, message", [
    ("eventName=ConsoleLogin x=", 26, "expected a value after '=' at column 26 (found end of condition)"),
    ("eventName=ConsoleLogin x= )", 27, "expected a value after '=' at column 27 (found ')')"),
    ("a!= ,", 5, "expected a value after '!=' at column 5 (found ',')"),
    ("a<abc", 3, "expected a number after '<' at column 3 (found 'abc')"),
    ("a>=1*", 4, "expected a number after '>=' at column 4"),
    ("a=1 (b=2", 9, "expected ')' to close the '(' of column 5 at column 9"),
    ("a=1 )", 5, "unexpected ')' at column 5"),
    ("", 1, "expected a condition at column 1"),
    ("   ", 4, "expected a condition at column 4"),
    ("a=1 OR", 7, "expected a condition after 'OR' at column 7"),
    ("a=1 AND OR b=2", 9, "expected a condition after 'AND' at column 9"),
    ("NOT", 4, "expected a condition after 'NOT' at column 4"),
    ("a=1, b=2", 4, "expected a condition at column 4 (found ',')"),
    ("a", 2, "expected an operator (=, !=, <, <=, >, >=) or IN after field 'a' at column 2"),
    ("a in (1)", 3, "or IN after field 'a' at column 3 (found 'in')"),
    ("1a=1", 1, "invalid field name '1a'"),
    ("a*=1", 1, "invalid field name 'a*'"),
    ("a!b", 2, "unexpected '!'"),
    ('a="abc', 3, "unterminated quoted string starting at column 3"),
    ("'abc=1", 1, "unterminated quoted field name starting at column 1"),
    ("''=1", 1, "empty field name at column 1"),
    ("a='x'", 3, "expected a value after '=' at column 3 (found 'x')"),
    ("a IN 1", 6, "expected '(' after IN at column 6"),
    ("a IN ()", 7, "expected a value after '(' at column 7"),
    ("a IN (1,)", 9, "expected a value after ',' at column 9"),
    ("a IN (1 2)", 9, "expected ',' or ')' in the IN list at column 9"),
    ("any(a, b=1)", 5, "any() needs an array field ending in '{}', found 'a' at column 5"),
    ("any(a{} b=1)", 9, "expected ',' after the array field of any() at column 9"),
    ("any(a{}, b=1", 13, "expected ')' to close any() at column 13"),
    ('cidrmatch("10.0.0.0/33", ip)', 11, "invalid CIDR range '10.0.0.0/33' at column 11"),
    ('cidrmatch("10.0.0.0/8" ip)', 24, "expected ',' after the range of cidrmatch()"),
    ("cidrmatch(10.0.0.*, ip)", 11, "cidrmatch() takes no wildcard"),
    ("portrange(ssh, a, b, c)", 11, "expected a port number as the first argument of portrange()"),
    ("portrange(22, a, b)", 19, "expected ',' before the protocol field of portrange() at column 19"),
    ('cidrlookup("../etc/passwd", ip)', 12, "lookup name '../etc/passwd' must match [A-Za-z0-9_]+"),
    ("a=1\n  b=", 9, "expected a value after '=' at column 9"),
    ("IN=1", 1, "'IN' is a keyword, not a field name"),
    ("a=1 NOT=2", 8, "expected a condition after 'NOT' at column 8 (found '=')"),
    ("foo(a=1)", 1, "unknown function 'foo' (valid functions: any, cidrmatch, cidrlookup, portrange)"),
    ("a<1e400", 3, "expected a number after '<' at column 3 (found '1e400')"),
    ("portrange(70000, a, b, c)", 11, "port '70000' is not a whole number between 0 and 65535"),
    ("portrange(22.5, a, b, c)", 11, "port '22.5' is not a whole number between 0 and 65535"),
    ("portrange(-1, a, b, c)", 11, "port '-1' is not a whole number between 0 and 65535"),
    ("a=1\fb=2", 6, "expected a condition at column 6 (found '=')"),  # form feed is not white space
    ("(" * 65 + "a=1" + ")" * 65, 65, "parentheses nested more than 64 deep"),
    ("any(a{}, " * 65 + "x=1" + ")" * 65, 577, "any() nested more than 64 deep"),
])
def test_parse_errors_carry_column_and_message(condition, column, message):
    with pytest.raises(ConditionError) as info:
        parse_condition(condition, lookup=lambda name: None)
    assert info.value.column == column
    assert message in str(info.value)


# -- values, wildcards, numbers, case --------------------------------------------------------

@pytest.mark.parametrize("condition, value, expected", [
    ("f=ConsoleLogin", "consolelogin", True),
    ("f=CONSOLELOGIN", "ConsoleLogin", True),
    ("f=Console", "ConsoleLogin", False),
    ("f=Console*", "ConsoleLogin", True),
    ("f=*Login", "ConsoleLogin", True),
    ("f=*sol*og*", "ConsoleLogin", True),
    ("f=C*n*n", "ConsoleLogin", True),
    ("f=C*x*n", "ConsoleLogin", False),
    ("f=ab*ab", "ab", False),
    ("f=ab*ab", "abab", True),
    ("f=a**b", "ab", True),
    ("f=*", "", True),
    ("f=*/0", "0.0.0.0/0", True),
    ("f=*/0", "10.0.0.0/8", False),
    ('f="a b"', "A B", True),
    ('f="a\\*b"', "a*b", True),
    ('f="a\\*b"', "axb", False),
    ('f="a*b"', "axxb", True),
    ('f="say \\"hi\\" \\\\"', 'say "hi" \\', True),
    ('f="a\\nb"', "a\\nb", True),
    ("f=a\\b", "a\\b", True),
    # ASCII folding only: É and é differ, as do İ and i
    (u"f=café", u"CAFé", True),
    (u"f=CAFÉ", u"café", False),
    (u"f=i", u"İ", False),
    # numbers compare as numbers when both sides are numbers
    ("f=22", "22.0", True),
    ("f=22.0", "22", True),
    ("f=1e3", "1000", True),
    ("f=+5", "5", True),
    ("f=.5", "0.5", True),
    ("f=5.", "5", True),
    ("f=-1", "-1.0", True),
    ("f=22", "022", True),
    ("f=22", "22a", False),
    ("f=22", " 22", False),
    ("f=0x16", "22", False),
    ('f="22"', "22.00", True),
    ("f=2*", "22.0", True),
    ("f=2*", "3", False),
    ("f=1E3", "1e3", True),
    ("f=nan", "NaN", True),
    ("f=inf", "1e400", False),
])
def test_equality_rules(condition, value, expected):
    assert holds(condition, {"f": value}) is expected


def test_number_text_comparison_when_one_side_is_not_a_number():
    assert holds("f=abc", {"f": "ABC"})
    assert not holds("f=1", {"f": "one"})
    assert holds("f=١", {"f": u"١"})  # Arabic-Indic digit: text, not a number
    assert not holds("f=1", {"f": u"١"})


@pytest.mark.parametrize("condition, expected", [
    ("n<22", False), ("n<=22", True), ("n>21.5", True), ("n>=22.0", True), ("n>22", False),
    ("n<1e3", True), ("n>-1", True), ('n<"30"', True),
    ("s<100", False), ("s>=0", False), ("missing<100", False),
])
def test_numeric_comparisons(condition, expected):
    assert holds(condition, {"n": 22, "s": "abc"}) is expected


def test_numeric_comparison_on_multivalue_uses_any_numeric_value():
    assert holds("n{}<5", {"n": ["x", 10, "3"]})
    assert not holds("n{}<1", {"n": ["x", 10, "3"]})
    assert holds("n<5", '{"n": "x", "n": 10, "n": "3"}')  # duplicate keys


# -- multivalue and missing fields -----------------------------------------------------------

def test_equality_on_multivalue_fields():
    record = {"tags": ["a", "b", "c"]}
    assert holds("tags{}=b", record)
    assert not holds("tags{}=d", record)
    assert holds("tags{}!=d", record)
    assert not holds("tags{}!=b", record)  # one value matches, so != fails
    assert holds("NOT tags{}=d", record)


def test_missing_fields():
    record = {"a": "x"}
    assert not holds("b=x", record)
    assert not holds("b!=x", record)  # SPL: missing does not match !=
    assert holds("NOT b=x", record)  # NOT includes events without b
    assert not holds("b=*", record)
    assert holds("NOT b=*", record)
    assert not holds("NOT a=*", record)


def test_exists_matches_empty_and_special_values():
    assert holds("f=*", {"f": ""})
    assert holds("f=*", {"f": None})
    assert holds("f=null", {"f": None})
    assert holds("f=TRUE", {"f": True})
    assert holds("f={}", {"f": {}})
    assert holds("f=[]", {"f": []})
    assert not holds("f!=*", {"f": "x"})


def test_in_lists():
    record = {"userIdentity": {"type": "SAMLUser"}}
    assert holds("userIdentity.type IN (IAMUser, samluser)", record)
    assert not holds("userIdentity.type IN (IAMUser, Root)", record)
    assert holds("NOT userIdentity.type IN (IAMUser, Root)", record)
    assert holds('userIdentity.type IN ("SAML*")', record)
    assert holds("x IN (1,2 , 3)", {"x": "3.0"})


def test_and_or_not_grouping():
    record = {"a": 1, "b": 2}
    assert holds("a=1 (b=3 OR b=2)", record)
    assert not holds("a=1 b=3 OR a=2", record)
    assert holds("NOT (a=2 OR b=3)", record)
    assert holds("NOT NOT a=1", record)
    assert holds("a=1 AND NOT b=3", record)


def test_spaces_around_operators_and_newlines():
    assert holds("a = 1\n  b\t!=\t3", {"a": 1, "b": 2})


# -- any() -----------------------------------------------------------------------------------

def permission(from_port, to_port, cidrs, protocol="tcp", v6=()):
    item = {"ipProtocol": protocol, "fromPort": from_port, "toPort": to_port,
            "ipRanges": {"items": [{"cidrIp": cidr_text} for cidr_text in cidrs]}}
    if v6:
        item["ipv6Ranges"] = {"items": [{"cidrIpv6": cidr_text} for cidr_text in v6]}
    return item


def ingress(*permissions):
    return {"eventName": "AuthorizeSecurityGroupIngress",
            "requestParameters": {"ipPermissions": {"items": list(permissions)}}}


SSH_FROM_WORLD = ("any(requestParameters.ipPermissions.items{}, portrange(22, fromPort, toPort, ipProtocol) "
                  "(ipRanges.items{}.cidrIp=*/0 OR ipv6Ranges.items{}.cidrIpv6=*/0))")
FLAT = ("requestParameters.ipPermissions.items{}.fromPort<=22 requestParameters.ipPermissions.items{}.toPort>=22 "
        "requestParameters.ipPermissions.items{}.ipRanges.items{}.cidrIp=*/0")


def test_any_trap_case_does_not_mix_elements():
    record = ingress(permission(22, 22, ["10.0.0.0/8"]), permission(443, 443, ["0.0.0.0/0"]))
    assert holds(FLAT, record)  # the reason any() exists
    assert not holds(SSH_FROM_WORLD, record)


def test_any_matches_one_element():
    assert holds(SSH_FROM_WORLD, ingress(permission(443, 443, ["0.0.0.0/0"]),
                                         permission(0, 65535, ["10.0.0.0/8", "0.0.0.0/0"])))
    assert holds(SSH_FROM_WORLD, ingress(permission(22, 22, [], v6=["::/0"])))
    assert holds(SSH_FROM_WORLD, ingress(permission(-1, -1, ["0.0.0.0/0"], protocol="-1")))
    assert not holds(SSH_FROM_WORLD, ingress(permission(23, 65535, ["0.0.0.0/0"])))
    assert not holds(SSH_FROM_WORLD, {"eventName": "AuthorizeSecurityGroupIngress"})


def test_any_field_names_are_relative_to_the_element():
    record = {"items": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}
    node = parse_condition("any(items{}, a=1 b=2)")
    assert isinstance(node, Any) and node.depth == 1
    assert node.referenced == ["items{}.a", "items{}.b"]
    assert holds("any(items{}, a=1 b=2)", record)
    assert holds("any(items{}, a=3 b=4)", record)
    assert not holds("any(items{}, a=1 b=4)", record)
    assert not holds("any(items{}, items{}.a=1)", record)  # names inside are relative
    assert holds("any(items{}, a=1) any(items{}, b=4)", record)


def test_any_with_not_and_missing_fields_inside():
    record = {"items": [{"a": 1}, {"a": 2, "b": "x"}]}
    assert holds("any(items{}, a=1 NOT b=*)", record)
    assert not holds("any(items{}, a=2 NOT b=*)", record)
    assert holds("any(items{}, b!=y)", record)
    assert not holds("any(items{}, a=1 b!=y)", record)  # element 0 has no b: != fails
    assert not holds("any(items{}, NOT a=*)", record)  # no element is known without a referenced field
    assert not holds("any(nothing{}, NOT x=1)", record)


def test_nested_any_is_relative_to_the_outer_element():
    record = {"p": [
        {"port": 22, "ranges": [{"cidr": "10.0.0.0/8", "desc": "office"}, {"cidr": "0.0.0.0/0", "desc": "x"}]},
        {"port": 443, "ranges": [{"cidr": "0.0.0.0/0", "desc": "office"}]},
    ]}
    node = parse_condition("any(p{}, port=22 any(ranges{}, cidr=*/0 desc=office))")
    inner = node.child.children[1]
    assert inner.array == "p{}.ranges{}" and inner.depth == 2
    assert inner.referenced == ["p{}.ranges{}.cidr", "p{}.ranges{}.desc"]
    assert not holds("any(p{}, port=22 any(ranges{}, cidr=*/0 desc=office))", record)
    assert holds("any(p{}, port=22 any(ranges{}, cidr=*/0 desc=x))", record)
    assert holds("any(p{}, port=443 any(ranges{}, cidr=*/0 desc=office))", record)
    # without the inner any(), cidr and desc may come from different ranges of one permission
    assert holds("any(p{}, port=22 ranges{}.cidr=*/0 ranges{}.desc=office)", record)


def test_any_over_a_nested_array_path_keeps_outer_indexes_apart():
    # any(a{}.b{}, ...) at top level: an element is (index in a, index in b)
    record = {"a": [{"b": [{"x": 1}]}, {"b": [{"y": 2}]}]}
    assert not holds("any(a{}.b{}, x=1 y=2)", record)
    assert holds("any(a{}.b{}, x=1 NOT y=2)", record)


def test_any_over_an_array_of_arrays():
    record = {"m": [[{"k": "a"}, {"k": "b"}], [{"k": "c"}]]}
    assert holds("any(m{}{}, k=b)", record)
    assert not holds("any(m{}{}, k=d)", record)


# -- portrange, cidrmatch, cidrlookup --------------------------------------------------------

@pytest.mark.parametrize("record, expected", [
    ({"f": 22, "t": 22, "p": "tcp"}, True),
    ({"f": 0, "t": 65535, "p": "tcp"}, True),
    ({"f": 23, "t": 100, "p": "tcp"}, False),
    ({"f": 1, "t": 21, "p": "tcp"}, False),
    ({"f": "x", "t": 100, "p": "tcp"}, False),
    ({"t": 100, "p": "tcp"}, False),
    ({"f": -1, "t": -1, "p": "-1"}, True),
    ({"p": -1}, True),
    ({"p": "ALL"}, True),
    ({"p": "-1.0"}, False),  # exact text -1
    ({"p": "all traffic"}, False),
    ({"p": "6"}, False),
    ('{"f": "30", "f": "10", "t": "22", "p": "tcp"}', True),
    ('{"f": "30", "t": "22", "p": "6", "p": "all"}', True),
])
def test_portrange(record, expected):
    assert holds("portrange(22, f, t, p)", record) is expected


def test_portrange_inside_any_uses_the_element_fields():
    record = {"i": [{"f": 0, "t": 10, "p": "tcp"}, {"f": 30, "t": 65535, "p": "tcp"}]}
    assert holds("portrange(22, i{}.f, i{}.t, i{}.p)", record)  # values of different elements
    assert not holds("any(i{}, portrange(22, f, t, p))", record)
    assert holds("any(i{}, portrange(40, f, t, p))", record)


@pytest.mark.parametrize("condition, ip, expected", [
    ('cidrmatch("10.0.0.0/8", ip)', "10.1.2.3", True),
    ('cidrmatch("10.0.0.0/8", ip)', "11.1.2.3", False),
    ("cidrmatch(10.1.2.3/8, ip)", "10.200.0.1", True),
    ('cidrmatch("192.0.2.7", ip)', "192.0.2.7", True),
    ('cidrmatch("192.0.2.7", ip)', "192.0.2.8", False),
    ('cidrmatch("0.0.0.0/0", ip)', "203.0.113.9", True),
    ('cidrmatch("0.0.0.0/0", ip)', "2001:db8::1", False),
    ('cidrmatch("::/0", ip)', "10.0.0.1", False),
    ('cidrmatch("2001:db8::/32", ip)', "2001:DB8:0:1::5", True),
    ('cidrmatch("2001:db8::/32", ip)', "2001:db9::5", False),
    ('cidrmatch("10.0.0.0/8", ip)', "::ffff:10.9.8.7", True),
    ('cidrmatch("::ffff:10.0.0.0/8", ip)', "10.9.8.7", True),
    ('cidrmatch("::/0", ip)', "::ffff:10.9.8.7", False),
    ('cidrmatch("10.0.0.0/8", ip)', "010.1.2.3", False),
    ('cidrmatch("10.0.0.0/8", ip)', "10.1.2.3 ", False),
    ('cidrmatch("10.0.0.0/8", ip)', "10.1.2", False),
    ('cidrmatch("10.0.0.0/8", ip)', "10.1.2.256", False),
    ('cidrmatch("fe80::/10", ip)', "fe80::1%eth0", False),
    ('cidrmatch("10.0.0.0/8", ip)', "AWS Internal", False),
    ('cidrmatch("10.0.0.0/8", ip)', "ec2.amazonaws.com", False),
])
def test_cidrmatch(condition, ip, expected):
    assert holds(condition, {"ip": ip}) is expected


def test_cidrmatch_multivalue_and_missing():
    assert holds('cidrmatch("10.0.0.0/8", ips{})', {"ips": ["x", "1.2.3.4", "10.0.0.1"]})
    assert not holds('cidrmatch("10.0.0.0/8", ips{})', {"other": 1})
    assert holds('NOT cidrmatch("10.0.0.0/8", ips{})', {"other": 1})


@pytest.mark.parametrize("text", ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8",
                                  "10.0.0.0/255.0.0.0", "300.0.0.0/8", "abc", "", "10.0.0.0 /8"])
def test_cidrmatch_invalid_ranges_fail_to_parse(text):
    with pytest.raises(ConditionError, match="invalid CIDR range"):
        parse_condition('cidrmatch("%s", ip)' % text)


def test_cidrlookup_uses_the_loader(tmp_path):
    path = tmp_path / "bad_ips.csv"
    path.write_text("ip,description\n198.51.100.0/24,x\n2001:db8::/48,y\n", encoding="utf-8")
    table, warnings = cidr.read_lookup(str(path))
    assert warnings == []
    asked = []

    def lookup(name):
        asked.append(name)
        return table

    assert holds('cidrlookup("bad_ips", src)', {"src": "198.51.100.77"}, lookup)
    assert holds("cidrlookup(bad_ips, src)", {"src": "2001:db8:0:ffff::1"}, lookup)
    assert not holds("cidrlookup(bad_ips, src)", {"src": "2001:db8:1::1"}, lookup)
    assert asked == ["bad_ips", "bad_ips", "bad_ips"]


def test_cidrlookup_loader_errors_become_condition_errors():
    def lookup(name):
        raise ValueError("lookup '%s' not found: /x/%s.csv does not exist" % (name, name))

    with pytest.raises(ConditionError) as info:
        parse_condition("a=1 cidrlookup(nope, ip)", lookup)
    assert info.value.column == 16
    assert "lookup 'nope' not found" in str(info.value)


def test_match_node_repr_and_fields():
    node = parse_condition("a IN (x, y) b!=z")
    assert isinstance(node.children[0], Match)
    assert node.fields() == ["a", "b"]
    assert node.children[1].negated is True


def test_quoted_field_names_take_escapes():
    node = parse_condition("'it\\'s'=1 'a\\\\b'=2 'star\\*'=3 'x*'=4")
    assert [child.field for child in node.children] == ["it's", "a\\b", "star*", "x*"]
    assert holds("'x*'=4", {"x*": 4, "xy": 4})
    assert not holds("'x*'=4", {"xy": 4})


def test_not_chains_and_deep_nesting_within_limits():
    assert holds("NOT " * 1001 + "a=2", {"a": 1})
    assert not holds("NOT " * 1000 + "a=2", {"a": 1})
    assert holds("(" * 64 + "a=1" + ")" * 64, {"a": 1})
    assert holds("any(a{}, " * 64 + "x=1" + ")" * 64, "{" + '"a":[{' * 64 + '"x":1' + "}]" * 64 + "}")


def test_portrange_port_may_be_quoted_or_fractionless():
    assert holds('portrange("22", f, t, p)', {"f": 22, "t": 22, "p": "tcp"})
    assert holds("portrange(22.0, f, t, p)", {"f": 22, "t": 22, "p": "tcp"})
    assert holds("portrange(0, f, t, p)", {"f": 0, "t": 0, "p": "tcp"})
