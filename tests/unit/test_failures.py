"""Which exceptions `tongxin` tells in one line (expected operational failures) and which it
lets through with their traceback (bugs)."""

from __future__ import annotations

import pytest
from nacl.exceptions import BadSignatureError
from nats.errors import NoServersError
from sqlalchemy.exc import OperationalError

from tongxin.failures import debug_requested, explain, run_reporting


@pytest.mark.parametrize(
    ("exc", "start"),
    [
        (
            OperationalError("SELECT 1", {}, ConnectionRefusedError("refused\nmore")),
            "database unreachable: refused",
        ),
        (NoServersError(), "NATS unreachable: "),
        (FileNotFoundError(2, "No such file", "/x/county.key"), "no such file: /x/county.key"),
        (PermissionError(13, "Permission denied", "/x/log"), "permission denied: /x/log"),
        (BadSignatureError("Signature was forged or corrupt"), "key refused: Signature was forged"),
    ],
)
def test_expected_failures_are_one_line_with_cause_and_hint(exc: Exception, start: str) -> None:
    line = explain(exc)
    assert line is not None and line.startswith(start) and "—" in line and "\n" not in line


def test_a_bug_is_not_explained_and_keeps_its_traceback() -> None:
    assert explain(KeyError("x")) is None

    def boom() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        run_reporting(boom, debug=False)


def test_an_expected_failure_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def missing() -> None:
        raise FileNotFoundError(2, "No such file", "/x/county.key")

    with pytest.raises(SystemExit) as exited:
        run_reporting(missing, debug=False)
    assert exited.value.code == 1
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(FileNotFoundError):
        run_reporting(missing, debug=True)


def test_debug_flag_is_taken_out_of_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TONGXIN_DEBUG", raising=False)
    argv = ["tongxin", "--debug", "county", "migrate"]
    assert debug_requested(argv) and argv == ["tongxin", "county", "migrate"]
    assert not debug_requested(["tongxin", "county"])
    monkeypatch.setenv("TONGXIN_DEBUG", "1")
    assert debug_requested(["tongxin", "county"])
