import polars as pl

from hygiene import DealRule

from hygiene_rules.text_values import per_distinct_value

#: Phrases that say nothing about what happens next, in English, Portuguese, Spanish, Italian, Polish and Indonesian.
DEFAULT_FILLER_PHRASES = [
    # English
    "follow up", "follow-up", "followup", "f/u", "check in", "check-in", "checking in", "touch base", "circle back",
    "reach out", "keep in touch", "stay in touch", "ping", "chase", "nudge", "waiting", "wait", "pending", "tbd", "tba",
    "to be defined", "to do", "todo", "n/a", "na", "none", "nothing", "update", "next steps", "next step", "see notes",
    "in progress", "ongoing", "on hold", "asap", "soon", "later", "customer", "client", "prospect",
    # Portuguese
    "acompanhar", "acompanhamento", "aguardando", "aguardar", "pendente", "em andamento", "retomar contato", "ver", "verificar",
    "cliente",
    # Spanish
    "seguimiento", "dar seguimiento", "pendiente", "esperando", "en curso", "en progreso", "por definir", "revisar estado",
    # Italian
    "in attesa", "aggiornamento", "da definire", "sentire", "ricontattare", "in corso", "sollecitare",
    # Polish
    "w toku", "oczekuje", "czekamy", "do ustalenia", "kontynuacja", "przypomnieć", "klient",
    # Indonesian
    "menunggu", "tindak lanjut", "dalam proses", "cek", "nanti", "pelanggan",
]

#: Words that name an action (matched at the start of a word, so "send" matches "sending"), in the same languages.
DEFAULT_ACTION_VERBS = [
    # English
    "call", "email", "e-mail", "send", "schedul", "book", "meet", "present", "demo", "review", "sign", "negotiat",
    "confirm", "deliver", "share", "prepar", "draft", "submit", "finali", "agree", "introduc", "intro ", "discuss",
    "run ", "hold", "visit", "quote", "propos", "align", "map ", "validat", "approv", "kick", "onboard", "install",
    "complet", "workshop", "deep dive", "deep-dive", "hand", "connect", "qualif", "walk", "train", "order", "redline",
    "legal", "procure", "pilot", "trial", "price", "pricing", "security", "technical", "reference", "contract",
    # Portuguese
    "ligar", "enviar", "agendar", "marcar", "reuni", "apresent", "revisar", "assin", "negoci", "confirmar", "entreg",
    "prepar", "validar", "aprovar", "fechar", "discutir", "visitar", "propor", "demonstr", "orçamento", "proposta",
    # Spanish
    "llamar", "enviar", "programar", "reunir", "reunión", "presentar", "firmar", "negociar", "entregar", "aprobar",
    "cerrar", "proponer", "demostrar", "cotiza", "propuesta", "contrato",
    # Italian
    "chiamar", "inviar", "mandar", "fissar", "incontr", "presentar", "rivedere", "firmar", "negozi", "confermar",
    "consegn", "preparar", "approvar", "chiuder", "discuter", "proporre", "offerta", "contratto", "riunione",
    # Polish
    "zadzwoni", "wysła", "wyśl", "umówi", "zaplanowa", "spotka", "przedstawi", "zaprezentowa", "przejrze", "podpisa",
    "negocjowa", "potwierdzi", "dostarczy", "przygotowa", "zatwierdzi", "zamkną", "omówi", "odwiedzi", "oferta",
    "umow",
    # Indonesian
    "telepon", "hubungi", "kirim", "jadwal", "atur", "bertemu", "temui", "presentasi", "tinjau", "tanda tangan",
    "negosiasi", "konfirmasi", "siapkan", "setujui", "tutup", "diskusi", "kunjungi", "ajukan", "penawaran", "kontrak",
]

_REGEX_SPECIALS = set("\\.+*?()|[]{}^$#&-~")
#: The three tests' results for a deal as bits of one small integer: one lookup per deal gives all three.
VERDICT_COLUMN = "__vague_verdict__"
SHORT_BIT, FILLER_BIT, NO_ACTION_BIT = 1, 2, 4


def literal_pattern(text: str) -> str:
    """``text`` as a regular expression matching itself, any run of white space matching any other."""
    escaped = "".join(f"\\{c}" if c in _REGEX_SPECIALS else c for c in text.strip().lower())
    return r"\s+".join(escaped.split())


def word_pattern(words: list[str], *, whole: bool) -> str:
    """One case-insensitive alternation of ``words``, each at the start of a word (and, if ``whole``, ending one)."""
    parts = sorted({literal_pattern(w) for w in words if w.strip()}, key=len, reverse=True)
    # A word starts where no letter or digit precedes it; \b would not work before "-" or "/".
    end = r"(?:[^\p{L}\p{N}]|$)" if whole else ""
    return rf"(?i)(?:^|[^\p{{L}}\p{{N}}])(?:{'|'.join(parts)}){end}"


class VagueNextStep(DealRule):
    """An open deal's next step does not say what happens: too short, only filler, or no action.

    **Why**

    "Follow up" is not a next step; "Send the revised order form to Ana
    (CFO)" is. A vague next step hides the fact that nobody knows how the
    deal moves forward, and it passes every "next step filled in" check.

    A non-empty ``next_step`` of an open deal is flagged when it is shorter
    than ``min_length`` characters (after trimming), or made only of filler
    phrases (``filler_phrases``: "follow up", "check in", "pending",
    "aguardando", "seguimiento", "in attesa", "w toku", "menunggu" ... with
    punctuation and digits ignored), or contains no action word
    (``action_verbs``: "call", "send", "schedule", "enviar", "llamar",
    "inviare", "wysłać", "kirim" ... each matched at the start of a word,
    so "send" also matches "sending"). Both lists are options, with
    defaults in English, Portuguese, Spanish, Italian, Polish and
    Indonesian; set them to your team's words. An empty next step is
    ``next-step-missing``'s business, not this rule's; an export without a
    ``next_step`` field is not evaluable.

    **Example**

    "Follow up" (9 characters) is too short and only filler; "Check in after
    the budget freeze" names no action; "Send the order form to legal" is
    fine. With ``min_length = 15``, "Call CFO Monday" (15 characters) is
    long enough, "Call CFO today" (14) is not.

    **Fix**

    Write the next step as an action with an owner and a date: what will
    be done, by whom, by when.
    """

    code = "HY021"
    name = "vague-next-step"
    summary = "Open deal whose next step is too short, only filler, or names no action"
    severity = "info"
    group = "next steps"
    weight = 5
    options_schema = {
        "type": "object",
        "properties": {
            "min_length": {"type": "integer", "minimum": 0, "default": 15, "description": "Next steps shorter than this many characters are vague."},
            "filler_phrases": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "default": DEFAULT_FILLER_PHRASES,
                "description": "Phrases that say nothing; a next step made only of them is vague.",
            },
            "action_verbs": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "default": DEFAULT_ACTION_VERBS,
                "description": "Action words, matched at the start of a word; a next step with none of them is vague.",
            },
        },
    }

    def _text(self) -> pl.Expr:
        return pl.col("next_step").str.strip_chars()

    def columns(self, ctx) -> dict[str, pl.Expr]:
        # Each test runs once per distinct next step (reps copy them from deal to deal), for open deals
        # with a next step; condition, message and details read the results.
        judged = ctx.is_open & pl.col("next_step").is_not_null()
        tests = {SHORT_BIT: self._test_too_short, FILLER_BIT: self._test_only_filler, NO_ACTION_BIT: self._test_no_action}

        def verdict(step: pl.Expr) -> pl.Expr:
            text = step.str.strip_chars()
            return pl.sum_horizontal(test(ctx, text).cast(pl.UInt8) * bit for bit, test in tests.items())

        return {VERDICT_COLUMN: pl.when(judged).then(per_distinct_value("next_step", verdict))}

    def _failed(self, bit: int) -> pl.Expr:
        """Whether the deal's next step fails the test of ``bit``; null where it was not judged."""
        return (pl.col(VERDICT_COLUMN) & bit) != 0

    def _too_short(self, ctx) -> pl.Expr:
        return self._failed(SHORT_BIT)

    def _only_filler(self, ctx) -> pl.Expr:
        return self._failed(FILLER_BIT)

    def _no_action(self, ctx) -> pl.Expr:
        return self._failed(NO_ACTION_BIT)

    def _test_too_short(self, ctx, text: pl.Expr) -> pl.Expr:
        return text.str.len_chars() < ctx.options["min_length"]

    def _test_only_filler(self, ctx, text: pl.Expr) -> pl.Expr:
        text = text.str.to_lowercase()
        fillers = ctx.options["filler_phrases"]
        if fillers:
            # Replace each filler with a space so that the words around it stay apart. A match takes
            # the separator after it, so a filler right after another is only found by a second pass.
            pattern = word_pattern(fillers, whole=True)
            text = text.str.replace_all(pattern, " ").str.replace_all(pattern, " ")
        return text.str.replace_all(r"[^\p{L}]+", "") == ""

    def _test_no_action(self, ctx, text: pl.Expr) -> pl.Expr:
        verbs = ctx.options["action_verbs"]
        if not verbs:
            return pl.lit(False)
        return ~text.str.contains(word_pattern(verbs, whole=False))

    def condition(self, ctx) -> pl.Expr:
        if not ctx.has_field("next_step"):
            return pl.lit(False)
        return ctx.is_open & pl.col("next_step").is_not_null() & (self._too_short(ctx) | self._only_filler(ctx) | self._no_action(ctx))

    def _reasons(self, ctx) -> pl.Expr:
        return pl.concat_str(
            [
                pl.when(self._too_short(ctx)).then(pl.lit(f"shorter than {ctx.options['min_length']} characters")),
                pl.when(self._only_filler(ctx)).then(pl.lit("only filler")),
                pl.when(self._no_action(ctx)).then(pl.lit("no action")),
            ],
            separator=", ",
            ignore_nulls=True,
        )

    def message_expr(self, ctx) -> pl.Expr:
        return pl.concat_str([pl.lit("vague next step \""), self._text(), pl.lit("\": "), self._reasons(ctx)])

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"next_step": pl.col("next_step"), "length": self._text().str.len_chars(), "reasons": self._reasons(ctx)}

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        if ctx.has_field("next_step"):
            return {}
        return {"next_step": ctx.is_open}
