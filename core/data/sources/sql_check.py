"""The query check: one reading SELECT/WITH statement, or a refusal before anything is sent.

Comments, string literals, quoted names and ``$$``-quoted strings are understood, so a keyword
inside a string is not mistaken for a statement, and one hidden after a ``;`` or inside a WITH is
found.  The check is a courtesy, not a boundary: :data:`BOUNDARY_NOTE` says what is.
"""

from __future__ import annotations

import re

from core.platform.errors import InvalidInputError

__all__ = ["BOUNDARY_NOTE", "check_select"]

BOUNDARY_NOTE = ("Atelier runs your SQL in a read-only transaction with a statement timeout, but SQL can turn "
                 "that off again: only a database role that may do nothing but SELECT is a real boundary.")

# Package to install for a dialect or a driver that is missing (pip names).

_KEYWORDS_REFUSED = (
    "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "DROP", "CREATE", "ALTER", "TRUNCATE", "GRANT", "REVOKE",
    "COPY", "CALL", "EXEC", "EXECUTE", "INTO", "LOCK", "VACUUM", "ATTACH", "DETACH", "PRAGMA", "COMMIT",
    "ROLLBACK", "SAVEPOINT", "HANDLER", "LOAD", "RENAME", "COMMENT", "REINDEX", "CLUSTER", "REFRESH", "NOTIFY",
    "LISTEN", "DO", "PREPARE", "DEALLOCATE", "DECLARE", "IMPORT", "EXPORT",
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9$]*")


def _code_only(sql: str, backslash_escapes: bool) -> str:
    """``sql`` with comments blanked and string literals and quoted identifiers zeroed (same length)."""
    out, i, n = [], 0, len(sql)
    while i < n:
        ch, nxt = sql[i], sql[i + 1] if i + 1 < n else ""
        if ch == "-" and nxt == "-" or ch == "#" and backslash_escapes:
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif ch == "/" and nxt == "*":
            end = sql.find("*/", i + 2)
            if end < 0:
                raise InvalidInputError("The SQL has a /* comment that is never closed.")
            out.append(" " * (end + 2 - i))
            i = end + 2
        elif ch in "'\"`":
            j = i + 1
            while True:
                if j >= n:
                    what = "string" if ch == "'" else "quoted name"
                    raise InvalidInputError(f"The SQL has a {what} that is never closed (a missing {ch}).")
                if backslash_escapes and sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote inside
                        j += 2
                        continue
                    break
                j += 1
            out.append("0" * (j + 1 - i))  # not blank: a literal is part of the statement
            i = j + 1
        elif ch == "$" and (m := re.match(r"\$([A-Za-z_]\w*)?\$", sql[i:])) and not (i and sql[i - 1].isalnum()):
            tag = m.group(0)
            end = sql.find(tag, i + len(tag))
            if end < 0:
                raise InvalidInputError(f"The SQL has a {tag}-quoted string that is never closed.")
            out.append("0" * (end + len(tag) - i))
            i = end + len(tag)
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def check_select(sql: str, dialect: str = "") -> str:
    """Return ``sql`` as one SELECT/WITH statement (trailing ``;`` removed) or refuse it before it is sent.

    Raises
    ------
    InvalidInputError
        Empty SQL, more than one statement, or anything that is not a single reading query.
    """
    text = (sql or "").strip()
    code = _code_only(text, backslash_escapes=dialect in ("mysql", "mariadb")).rstrip()
    while code.endswith(";"):
        code = code[:-1].rstrip()
    text = text[: len(code)].rstrip()
    if not code.strip():
        raise InvalidInputError("The query is empty.", hint="Write one SELECT query, e.g. SELECT * FROM orders.")
    if ";" in code:
        raise InvalidInputError(
            "The SQL holds more than one statement (a ';' in the middle); Atelier imports one SELECT query at a time.",
            hint="Keep only the SELECT whose rows you want, or combine the parts with WITH … SELECT.",
        )
    words = [w.upper() for w in _WORD.findall(code)]
    if not words or words[0] not in ("SELECT", "WITH"):
        first = words[0] if words else code.strip()[:20]
        raise InvalidInputError(
            f"Only a SELECT query (or WITH … SELECT) can be imported; this SQL starts with {first}.",
            hint="To import a whole table, choose the table instead of writing SQL. " + BOUNDARY_NOTE,
        )
    refused = sorted({w for w in words if w in _KEYWORDS_REFUSED} | ({"REPLACE"} if re.search(
        r"\bREPLACE\s+INTO\b", code, re.IGNORECASE) else set()))
    if refused:
        raise InvalidInputError(
            f"Only reading queries can be imported; this one contains {', '.join(refused)}.",
            hint="Write a plain SELECT (no INTO, no data-changing WITH parts, no locking clauses). " + BOUNDARY_NOTE,
        )
    return text
