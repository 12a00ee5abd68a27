"""Logging set-up with a filter that keeps secrets and personal data out of every log line.

httpx logs each request URL, and Bot API URLs contain the token; exception messages can quote
a phone number or e-mail a user typed, and database errors quote the values of the failed
statement (names included). The filter rewrites the final message of every record, so no
handler (console, file, journald) can ever print them.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
# International (+44...) or national (07400...) numbers; not bare ids, which never start 0 or +.
_PHONE = re.compile(r"(?<![\w+])(?:\+|0)\d[\d ()-]{6,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# SQLAlchemy quotes a failed statement's values ("[parameters: ('Ann Lee', ...)]"): names too.
_SQL_PARAMETERS = re.compile(r"\[parameters: .*\]")


def redact(text: str) -> str:
    text = _SQL_PARAMETERS.sub("[parameters: <hidden>]", text)
    text = _TOKEN.sub("<token>", text)
    text = _EMAIL.sub("<email>", text)
    return _PHONE.sub("<phone>", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def configure(level: int = logging.INFO) -> None:
    """Root logging for the CLI: one format, redaction on every handler, quiet HTTP client."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-start plugin chatter
