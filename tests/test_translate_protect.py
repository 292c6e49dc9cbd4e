"""Glossary protection, sentence splitting and answer checks (pure functions, property-tested)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syndicate.translate.protect import Glossary, placeholder
from syndicate.translate.split import join_pieces, limit_measure, split_text
from syndicate.translate.validate import answer_problem

NAMES = ["Sonata Coulter", "Alexander Darchiev", "Sergei Lavrov"]


# --------------------------------------------------------------------------- glossary


def test_version_is_a_short_hash_of_the_sorted_terms() -> None:
    assert Glossary(NAMES).version == Glossary(list(reversed(NAMES))).version
    assert Glossary(NAMES).version != Glossary(NAMES[:2]).version
    assert len(Glossary(NAMES).version) == 12
    assert Glossary([" Sergei  Lavrov ", ""]).terms == ("Sergei Lavrov", "Lavrov")  # the last word of a name too
    assert Glossary([" Sergei  Lavrov ", ""], last_word=False).terms == ("Sergei Lavrov",)


def test_protect_whole_words_longest_first() -> None:
    glossary = Glossary(["Lavrov", "Sergei Lavrov", "Coulter"])
    text, mapping = glossary.protect("Sergei Lavrov met Lavrova and Mr. Lavrov; Coulters, Coulter.")
    assert sorted(mapping.values()) == ["Coulter", "Lavrov", "Sergei Lavrov"]
    assert "Lavrova" in text and "Coulters" in text  # not inside other words
    assert glossary.restore(text, mapping) == "Sergei Lavrov met Lavrova and Mr. Lavrov; Coulters, Coulter."


def test_placeholders_are_five_capitals_without_digits() -> None:
    _text, mapping = Glossary(NAMES).protect("Sonata Coulter and Alexander Darchiev and Sonata Coulter")
    assert list(mapping) == [placeholder("ZQ", 0), placeholder("ZQ", 1), placeholder("ZQ", 2)]
    assert all(len(t) == 5 and t.isalpha() and t.isupper() for t in mapping)


def test_restore_fails_when_a_placeholder_is_lost_or_mangled() -> None:
    glossary = Glossary(NAMES)
    text, mapping = glossary.protect("Sonata Coulter met Sergei Lavrov.")
    first, second = mapping
    assert glossary.restore(text.replace(second, ""), mapping) is None
    assert glossary.restore(text.replace(second, second[:4]), mapping) is None
    assert glossary.restore(text.replace(first, first.lower()), mapping) == "Sonata Coulter met Sergei Lavrov."
    assert glossary.restore(f"{first}ha {second}", mapping) == "Sonata Coulterha Sergei Lavrov"  # suffix kept


def test_text_already_containing_the_prefix_gets_another() -> None:
    text, mapping = Glossary(NAMES).protect("ZQ-7 drone and Sergei Lavrov")
    assert all(t.startswith("XQ") for t in mapping) and "ZQ-7" in text


def test_terms_with_regex_characters_and_backslashes() -> None:
    glossary = Glossary(["C++ Inc.", r"A\B"])
    text = r"C++ Inc. and A\B"
    protected, mapping = glossary.protect(text)
    assert len(mapping) == 2
    assert glossary.restore(protected, mapping) == text


@given(st.lists(st.sampled_from([*NAMES, "the talks", " ", ", ", ".", "Lavrovs", "\n"]), max_size=30))
def test_protect_restore_round_trip(parts: list[str]) -> None:
    glossary = Glossary(NAMES)
    text = " ".join(parts)
    protected, mapping = glossary.protect(text)
    assert not any(name in protected for name in NAMES)
    assert glossary.restore(protected, mapping) == text


# --------------------------------------------------------------------------- splitting


def test_short_text_is_one_piece() -> None:
    assert [p.text for p in split_text("Short.", limit_measure(100))] == ["Short."]


def test_split_at_sentences_then_words_then_characters() -> None:
    fits = limit_measure(20)
    text = "One two. Three four five six seven eight. Nine. Ten. " + "x" * 45
    pieces = split_text(text, fits)
    assert all(fits(p.text) for p in pieces)
    assert [p.text for p in pieces][:5] == ["One two.", "Three four five six", "seven eight.", "Nine. Ten.", "x" * 20]
    assert "".join(p.text + p.gap for p in pieces) == text


def test_closing_quotes_stay_with_their_sentence() -> None:
    pieces = split_text("“It is done.” Then more follows.", limit_measure(20))
    assert [p.text for p in pieces] == ["“It is done.”", "Then more follows."]


def test_byte_limits() -> None:
    fits = limit_measure(1000, max_bytes=20)
    pieces = split_text("Привет мир. Как дела у вас?", fits)
    assert all(len(p.text.encode()) <= 20 for p in pieces)


@given(st.text(alphabet=st.sampled_from([*list("ab .!?\n“”"), "Ж", "。"]), max_size=300), st.integers(3, 60))
def test_split_join_round_trip(text: str, limit: int) -> None:
    fits = limit_measure(limit)
    pieces = split_text(text, fits)
    assert all(fits(p.text) for p in pieces)
    assert join_pieces([p.text for p in pieces], pieces) == text


# --------------------------------------------------------------------------- answers


def test_answer_checks() -> None:
    assert answer_problem("Hello", "Hola") is None
    assert answer_problem("Hello", "") == "empty answer"
    assert answer_problem("", "") is None
    assert answer_problem("Hello", None) is not None
    assert answer_problem("Hello", "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY") is not None
    assert answer_problem("Hello", "500 Internal Server Error") is not None
    assert answer_problem("Hello", "<html><body>oops</body></html>") is not None
    assert answer_problem("Hello", '{"error": {"code": 429}}') is not None
    assert answer_problem("Hi", "x" * 200) is not None
    # text that merely mentions such things is fine
    assert answer_problem("Hubo demasiadas solicitudes", "There were too many requests") is None
    assert answer_problem("Use <html> tags", "Usa etiquetas <html>") is None
    assert answer_problem("Error", "Error") is None
