"""The emulator's hand-written CSV encoder against the csv-module decoder, and splunkd's format."""
import gzip

import pytest

import splunkd


def test_encoder_bytes_follow_splunkd_format():
    rows = [
        {"_raw": "a,b", "_time": "1.5", "tag": ["x", "y$z"]},
        {"_raw": 'say "hi"', "late": "new\nline", "tag": ["only"]},
    ]
    assert splunkd.encode_csv(rows) == (
        '_raw,_time,tag,late,__mv__raw,__mv__time,__mv_tag,__mv_late\n'
        '"a,b",1.5,"x\ny$z",,,,$x$;$y$$z$,\n'
        '"say ""hi""",,only,"new\nline",,,,\n'
    ).encode("utf-8")
    assert splunkd.encode_csv([]) == b""


@pytest.mark.parametrize("values", [["a", "b"], ["$", "$$", ""], ["x;y", "$;$", "é😀"], ["", ""], ["a\nb", "c"]])
def test_mv_round_trip(values):
    assert splunkd.decode_mv(splunkd.encode_mv(values)) == values


@pytest.mark.parametrize("bad", ["a", "$a", "$a$b", "$a$;", "$a$$"])
def test_mv_malformed(bad):
    with pytest.raises(splunkd.HarnessError):
        splunkd.decode_mv(bad)


@pytest.mark.parametrize("quote_all", [False, True])
def test_round_trip(quote_all):
    rows = [
        {"_raw": '{"a": "é, \\"x\\""}', "n": 1, "mv": ["p", "q$", "r,s", 'quote"d', "cr\r\nlf", "😀"]},
        {"_raw": "", "n": None, "mv": "single", "extra": " spaced "},
        {"mv": [], "extra": "\r"},
    ]
    table = splunkd.decode_csv(splunkd.encode_csv(rows, quote_all=quote_all))
    assert table.columns == ["_raw", "n", "mv", "extra", "__mv__raw", "__mv_n", "__mv_mv", "__mv_extra"]
    assert table.rows == [
        {"_raw": '{"a": "é, \\"x\\""}', "n": "1", "mv": ["p", "q$", "r,s", 'quote"d', "cr\r\nlf", "😀"], "extra": ""},
        {"_raw": "", "n": "", "mv": "single", "extra": " spaced "},
        {"_raw": "", "n": "", "mv": "", "extra": "\r"},
    ]


def test_decoder_reads_a_real_splunkd_body(recordings):
    data = gzip.decompress((recordings / "countmatches.input.gz").read_bytes())
    messages = splunkd.split_messages(data)
    assert len(messages) == 2
    table = splunkd.decode_csv(messages[1][1])
    assert table.columns == ["_serial", "_time", "text", "__mv__serial", "__mv__time", "__mv_text"]
    assert len(table) == 500  # 629 lines: some tweets span several
    assert [row["_serial"] for row in table.rows] == [str(i) for i in range(500)]
    assert table.rows[1]["text"] == "Tú novia te ama mucho"
    # re-encoding the rows gives the same table back (splunkd quotes more than we do)
    again = splunkd.decode_csv(splunkd.encode_csv(table.rows))
    assert again.rows == table.rows


def test_decoder_rejects_ragged_rows():
    with pytest.raises(splunkd.HarnessError):
        splunkd.decode_csv(b"a,b\n1\n")


def test_split_messages_rejects_bad_framing():
    with pytest.raises(splunkd.HarnessError):
        splunkd.split_messages(b"chunked 1.0,5,0\n{}")
    with pytest.raises(splunkd.HarnessError):
        splunkd.split_messages(b"chunked 1.0,2,0\n{}junk")


@pytest.mark.parametrize("stderr", [
    "==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6020000020e0\n",
    "/src/native/src/chunk.cpp:166:60: runtime error: signed integer overflow: 1 + 2147483647\n",
])
def test_sanitizer_reports_fail_the_run(stderr):
    # make test-sanitize-python: a report from the command fails the run, even in a test that
    # expects the command to fail.
    with pytest.raises(splunkd.HarnessError) as info:
        splunkd.check_no_sanitizer_report("some output\n" + stderr)
    assert stderr.strip() in str(info.value)


def test_ordinary_stderr_is_no_sanitizer_report():
    splunkd.check_no_sanitizer_report("")
    splunkd.check_no_sanitizer_report("Traceback (most recent call last):\nRuntimeError: a runtime error: here\n")
