"""Bodies built to make a Markdown renderer slow or deep, each of a chosen length.

Shared by the hang-guard test (tests/board/test_markup_limits.py) and the timing
bench (``python -m tests.bench markup``). Every case is a function of the length
``n`` (characters) so both can run it at POST_MAX_LENGTH.
"""


def _fill(unit: str, n: int, tail: str = "") -> str:
    return (unit * (max(0, n - len(tail)) // len(unit) + 1))[: max(0, n - len(tail))] + tail


def _nested_list_lines(n: int) -> str:
    lines, depth = [], 0
    while sum(map(len, lines)) < n:
        lines.append("  " * depth + "- item\n")
        depth += 1
    return "".join(lines)[:n]


def _long_table(n: int) -> str:
    head = "| a | b | c |\n|---|---|---|\n"
    return head + _fill("| 1 | 2 | 3 |\n", n - len(head))


def _wide_table_empty_rows(n: int) -> str:
    # Many header columns, then short rows: each row is padded to the header's width.
    head = "|" + "a|" * (n // 8)
    return head + "\n" + "|" + "-|" * (n // 8) + "\n" + _fill("x\n", n - 2 * len(head))


def _wide_table_in_a_quote(n: int) -> str:
    head = "> |" + "a|" * (n // 10)
    return head + "\n> |" + "-|" * (n // 10) + "\n" + _fill("> x\n", n - 2 * len(head))


CASES = {
    "open brackets": lambda n: _fill("[", n),
    "link openers": lambda n: _fill("[a](", n),
    "image openers": lambda n: _fill("![a](", n),
    "brackets then parens": lambda n: "[" * (n // 2) + "](" * (n // 4),
    "nested link labels": lambda n: "[" * (n // 3) + "a" + "]" * (n // 3) + "(x)",
    "reference definitions": lambda n: _fill("[a]: <b>\n", n // 2) + _fill("[a]", n // 2),
    "unclosed link titles": lambda n: _fill('[a](b "', n),
    "stars": lambda n: _fill("*", n),
    "star words": lambda n: _fill("*a ", n),
    "nested emphasis": lambda n: "*a **b " * (n // 14) + "b** a*" * (n // 14),
    "underscores": lambda n: _fill("_a", n),
    "strike tildes": lambda n: _fill("~~a", n),
    "backtick runs": lambda n: "".join("`" * (i % 50 + 1) + "a" for i in range(n // 26))[:n],
    "backticks": lambda n: _fill("`", n),
    "html openers": lambda n: _fill("<", n),
    "html tags unclosed": lambda n: _fill("<a ", n),
    "html comments": lambda n: _fill("<!--", n),
    "nested raw divs": lambda n: _fill("<div>", n),
    "nested raw bold divs": lambda n: _fill("<b><div>", n),
    "raw divs with stray closers": lambda n: _fill("<div></span>", n),
    "nested raw pre": lambda n: _fill("<pre>", n),
    "entities": lambda n: _fill("&#", n),
    "escapes": lambda n: _fill("\\", n),
    "quotes 1000 deep": lambda n: "> " * min(1000, n // 2) + "x",
    "quotes one per line": lambda n: "".join(">" * i + " x\n" for i in range(1, 1000))[:n],
    "quote markers": lambda n: _fill(">", n),
    "quote markers then raw html": lambda n: _fill(">", n - 8) + "<b>x</b>",
    "list markers": lambda n: _fill("- ", n - 1) + "x",
    "lists 1000 deep": lambda n: "- " * min(1000, n // 2) + "x",
    "ordered lists 1000 deep": lambda n: "1. " * min(1000, n // 3) + "x",
    "indented lists": _nested_list_lines,
    "list items": lambda n: _fill("- a\n", n),
    "long table": _long_table,
    "wide table with empty rows": _wide_table_empty_rows,
    "wide table in a quote": _wide_table_in_a_quote,
    "pipes": lambda n: _fill("|", n),
    "headings": lambda n: _fill("# ", n),
    "setext underlines": lambda n: _fill("a\n=\n", n),
    "fences": lambda n: _fill("```\n", n),
    "newlines": lambda n: _fill("\n", n),
    "hard breaks": lambda n: _fill("a  \n", n),
    "bare urls": lambda n: _fill("http://a.b ", n),
    "www links": lambda n: _fill("www.", n),
    "dotted words": lambda n: _fill("a.", n),
    "email-like": lambda n: _fill("a@b.", n),
    "url with parens": lambda n: "https://a.example/" + _fill("(", n - 18),
    "autolinks": lambda n: _fill("<http://a", n),
    "mentions": lambda n: _fill("@ab ", n),
    "at signs": lambda n: _fill("@", n),
    "embeds": lambda n: _fill("[[product:1]] ", n),
    "embed openers": lambda n: _fill("[[product:", n),
    "combining marks": lambda n: "a" + "\u0301" * (n - 1),
    "mixed punctuation": lambda n: _fill("*[_`<!&\\]~@:", n),
}


def corpus(n: int) -> dict[str, str]:
    return {name: make(n) for name, make in CASES.items()}
