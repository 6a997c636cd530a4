from app.core.splitter import SentenceSplitter, clean_for_speech, split_text


def stream(tokens: list[str]) -> list[str]:
    splitter = SentenceSplitter()
    out: list[str] = []
    for token in tokens:
        out.extend(splitter.feed(token))
    out.extend(splitter.flush())
    return out


def test_first_clause_is_released_early_then_whole_sentences() -> None:
    text = "The capital of France is Paris , a city of two million people . It is lovely , really ."
    tokens = text.split(" ")
    tokens = [t if t in {",", "."} else " " + t for t in tokens]
    pieces = stream(tokens)
    assert pieces[0] == "The capital of France is Paris,"
    assert pieces[1] == "a city of two million people."
    # only the FIRST piece is cut at a comma
    assert pieces[2] == "It is lovely, really."


def test_first_piece_released_before_the_sentence_ends() -> None:
    splitter = SentenceSplitter()
    released: list[str] = []
    for token in ["Well", " actually", " it", " depends", ",", " because", " the"]:
        released.extend(splitter.feed(token))
    assert released == ["Well actually it depends,"]


def test_short_openings_are_not_cut_at_the_comma() -> None:
    assert split_text("Yes, I can help with that. Sure.") == ["Yes, I can help with that.", "Sure."]


def test_abbreviations_and_decimals_do_not_end_sentences() -> None:
    assert split_text("Dr. Smith paid 3.5 dollars at 5 p.m. yesterday. Then he left!") == [
        "Dr. Smith paid 3.5 dollars at 5 p.m. yesterday.",
        "Then he left!",
    ]


def test_decimal_split_across_tokens_stays_together() -> None:
    assert stream(["It", " costs", " 2", ".", "5", " euros", ".", " Bye", "."]) == ["It costs 2.5 euros.", "Bye."]


def test_markdown_is_not_read_aloud_and_newlines_end_pieces() -> None:
    assert split_text("**Tip**: drink water\n- and *sleep* well") == ["Tip: drink water", "- and sleep well"]
    assert clean_for_speech("`code`  and   ## heading") == "code and heading"


def test_punctuation_only_pieces_are_dropped() -> None:
    assert split_text("Hello there. ... !") == ["Hello there."]
