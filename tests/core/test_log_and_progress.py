"""Console logs to a file or pipe are plain (not padded to a width); log.txt gets DEBUG
detail; long non-training work reports progress in a few lines, not one per item."""

import logging

from herd.core.log import add_file_log, console_handler
from herd.core.progress import track


def test_a_console_that_is_not_a_terminal_gets_plain_unpadded_lines(capsys):
    log = logging.getLogger("herd.test_console")
    log.propagate = False
    handler = console_handler(terminal=False)
    log.addHandler(handler)
    try:
        log.warning("short line")
    finally:
        log.removeHandler(handler)
    line = capsys.readouterr().err.splitlines()[-1]
    assert line.endswith("WARNING short line")  # nothing after the message


def test_log_txt_gets_debug_lines(tmp_path):
    log = logging.getLogger("herd.test_file")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    handler = add_file_log(log, tmp_path / "log.txt")
    try:
        log.debug("a step's detail")
        log.info("an outcome")
    finally:
        log.removeHandler(handler)
        handler.close()
    text = (tmp_path / "log.txt").read_text()
    assert "DEBUG   herd.test_file: a step's detail" in text and "INFO    herd.test_file: an outcome" in text
    assert all(line == line.rstrip() for line in text.splitlines())


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _tracked(every_s: float, n: int) -> tuple[list[int], list[str]]:
    lines = _Lines()
    log = logging.getLogger("herd.progress")
    log.addHandler(lines)
    level, log.level = log.level, logging.INFO
    try:
        items = list(track(range(n), "judging rollouts", total=n, enabled=False, every_s=every_s))
    finally:
        log.removeHandler(lines)
        log.setLevel(level)
    return items, lines.lines


def test_progress_off_a_terminal_goes_to_the_log_at_a_rate():
    items, lines = _tracked(every_s=0.0, n=3)
    assert items == [0, 1, 2]
    assert lines[0] == "judging rollouts: 1/3 (33%) in 0s, ETA 0s" and lines[-1].startswith("judging rollouts: 3/3 (100%)")
    items, lines = _tracked(every_s=3600.0, n=50)
    assert items == list(range(50)) and lines == []  # quick work leaves the log alone
